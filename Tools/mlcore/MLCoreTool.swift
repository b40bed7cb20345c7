import ArgumentParser
import MLCore
import MLCoreCLI

/// `mlcore`: the toolkit's utility executable.
@main
struct MLCoreTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlcore",
        abstract: "Utilities of the MLCore toolkit: inspect HDF5 files, list prepared data, tokenize and embed text, generate and score text, compute metrics, classify images.",
        version: MLCoreVersion.string,
        subcommands: [Inspect.self, Datasets.self, Tokenize.self, Embed.self, Generate.self, Score.self, Metric.self, ClassifyImage.self, MergeCommand.self])

    static func main() { mainWithOneLineErrors() }
}
