import ArgumentParser
import MLCore
import MLCoreCLI

/// `mlcore`: the toolkit's utility executable.
@main
struct MLCoreTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlcore",
        abstract: "Utilities of the MLCore toolkit: inspect HDF5 files, list prepared data, tokenize and embed text, generate and score text, classify images.",
        version: MLCoreVersion.string,
        subcommands: [Inspect.self, Datasets.self, Tokenize.self, Embed.self, Generate.self, Score.self, ClassifyImage.self, MergeCommand.self])

    static func main() { mainWithOneLineErrors() }
}
