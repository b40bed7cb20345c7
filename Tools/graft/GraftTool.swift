import ArgumentParser
import MLCore
import MLCoreCLI

/// `graft`: skill localization by grafting (Panigrahi et al., ICML 2023) on MiniLM-L6.
@main
struct GraftTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graft",
        abstract: "Skill localization by grafting: fine-tune, localize the skill in a sparse mask, evaluate, compare masks.",
        version: MLCoreVersion.string,
        subcommands: [])

    static func main() { mainWithOneLineErrors() }
}
