/* placeholder until protoc-c output is generated */
