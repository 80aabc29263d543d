import Foundation
import GraftCLI

exit(CLI.run(Array(CommandLine.arguments.dropFirst())))
