import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI

/// `mlcore classify-image --weights efficientnet-lite0 FILE...`: top-k ImageNet classes per image.
struct ClassifyImage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify-image",
        abstract: "Classify JPEG/PNG images with an ImageNet classifier and print the top classes with probabilities.",
        discussion: """
            Examples:
              mlcore classify-image --weights efficientnet-lite0 photo.jpg
              mlcore classify-image --weights efficientnet-lite0 --top 3 --json a.png b.jpg
            Each image is centre-cropped, resized and normalised as the checkpoint's config records
            (EfficientNet-Lite0: 224/256 centre crop, bicubic resize to 224×224, (x − 127)/128), then
            classified in batches on all cores. Text output: per file a line with the path, then one line
            per class "rank  probability  id  name". Exit 66 for a missing file, 65 for an undecodable image.
            """)

    @OptionGroup var weights: WeightsOption
    var model: String { weights.weights }

    @Argument(help: ArgumentHelp("JPEG or PNG images.", valueName: "file"))
    var files: [String]

    @Option(help: "How many classes to print per image.")
    var top = 5

    @Option(help: "Images per forward pass.")
    var batch = 8

    @Flag(help: "One JSON object per image and line: {\"file\", \"top\": [{\"rank\", \"class\", \"name\", \"probability\"}]}.")
    var json = false

    @OptionGroup var threading: ThreadsOption

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one image file") }
        guard top > 0 else { throw ValidationError("--top must be positive") }
        guard batch > 0 else { throw ValidationError("--batch must be positive") }
    }

    func run() throws {
        do {
            threading.apply()
            let checkpoint = try Checkpoint(path: try resolveNameOrPath(model))
            let network = try EfficientNetLite.load(from: checkpoint)
            let names = try checkpoint.classNames() ?? (0..<network.config.numClasses).map { "class \($0)" }
            let k = min(top, names.count)
            var output = ""
            for start in stride(from: 0, to: files.count, by: batch) {
                let chunk = Array(files[start..<min(start + batch, files.count)])
                let images = try chunk.map { try RGBImage.read(path: $0) }
                let probabilities = network.predict(network.preprocess(images)).logits.softmax(axis: -1)
                for (row, file) in chunk.enumerated() {
                    let p = probabilities.selected(row).scalars
                    let best = p.indices.sorted { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) }.prefix(k)
                    if json {
                        let entries: [JSONValue] = best.enumerated().map { rank, c in
                            .object(["rank": .int(rank + 1), "class": .int(c), "name": .string(names[c]),
                                     "probability": JSONValue(p[c])])
                        }
                        output += try JSONValue.object(["file": .string(file), "top": .array(entries)]).jsonText() + "\n"
                    } else {
                        output += file + "\n"
                        for (rank, c) in best.enumerated() {
                            output += String(format: "  %d  %.4f  %4d  %@\n", rank + 1, p[c], c, names[c] as NSString)
                        }
                    }
                }
                FileHandle.standardOutput.write(Data(output.utf8))
                output = ""
            }
        } catch {
            ToolRunner.fail(tool: "mlcore classify-image", error)
        }
    }
}
