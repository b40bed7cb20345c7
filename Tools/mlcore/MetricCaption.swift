import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI

/// `mlcore metric caption`: BLEU-1..4, ROUGE-L and CIDEr-D of generated captions against references,
/// as pycocoevalcap's COCOEvalCap computes them (`Captioning`, `CaptionTokenizer`, Docs/METRICS.md §5).
struct MetricCaption: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caption",
        abstract: "BLEU-1..4, ROUGE-L and CIDEr-D of captions (COCO-style JSON), as pycocoevalcap.",
        discussion: """
            Example:
              mlcore metric caption --candidates results.json --references captions_val.json
            --candidates: a COCO results file, [{"image_id": ..., "caption": "..."}, ...], one caption per \
            image. --references: a COCO captions file ({"annotations": [{"image_id", "caption"}, ...]}) or \
            a bare array of such objects. Images are those of the candidates (as COCOEvalCap), each needs \
            at least one reference; CIDEr-D's document frequencies come from their references. Captions are \
            tokenized as pycocoevalcap's PTBTokenizer does (lower-cased, punctuation removed; \
            Docs/METRICS.md §5); --tokenized splits on whitespace only. -q adds per-image ROUGE-L and CIDEr-D; \
            --image-lines writes them as JSON lines, e.g. for `mlcore metric bootstrap --key cider_d`.
            """)

    @OptionGroup var outputOption: OutputOption

    @Option(help: ArgumentHelp("Generated captions, a COCO results JSON file ('-': stdin).", valueName: "file"))
    var candidates: String

    @Option(help: ArgumentHelp("Reference captions, a COCO captions JSON file.", valueName: "file"))
    var references: String

    @Flag(help: "Captions are already tokenized: split on whitespace, nothing else.")
    var tokenized = false

    @Flag(name: [.customShort("q"), .customLong("per-image")], help: "Also give every image's ROUGE-L and CIDEr-D.")
    var perImage = false

    @Option(help: ArgumentHelp("Also write every image's ROUGE-L and CIDEr-D as JSON lines {\"image_id\": id, \"rouge_l\": v, \"cider_d\": v} here (for metric bootstrap).",
                               valueName: "file"))
    var imageLines: String?

    func validate() throws {
        if candidates == "-" && references == "-" { throw ValidationError("--candidates and --references cannot both be stdin") }
    }

    /// (image id as JSON text, caption) pairs of a COCO file: an array of objects, or an object whose
    /// "annotations" is one.
    /// - Throws: `MetricsError.unreadableFile`, `.malformedLine` (line 1: the file is one JSON document) naming what is wrong.
    static func captions(_ path: String) throws -> [(String, String)] {
        let source = path == "-" ? "stdin" : path
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let d = FileManager.default.contents(atPath: path) else { throw MetricsError.unreadableFile(path: path) }
            data = d
        }
        let json: JSONValue
        do {
            json = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw MetricsError.malformedLine(file: source, line: 1, expected: "a COCO captions JSON document (\(ToolRunner.describe(error).0))")
        }
        var list: [JSONValue]
        switch json {
        case .array(let a): list = a
        case .object(let o):
            guard case .array(let a)? = o["annotations"] else {
                throw MetricsError.malformedLine(file: source, line: 1, expected: "an array of captions or an object with an \"annotations\" array")
            }
            list = a
        default:
            throw MetricsError.malformedLine(file: source, line: 1, expected: "an array of captions or an object with an \"annotations\" array")
        }
        return try list.enumerated().map { i, entry in
            guard let id = entry["image_id"], id != .null, case .string(let caption)? = entry["caption"] else {
                throw MetricsError.malformedLine(file: source, line: 1,
                                                 expected: "an \"image_id\" and a string \"caption\" in caption \(i + 1)")
            }
            return (try id.jsonText(), caption)
        }
    }

    func run() throws {
        try runMetric("metric caption", output: outputOption.output, reflecting: self) { _ in
            let generated = try Self.captions(candidates), given = try Self.captions(references)
            let whitespace = tokenized
            func tokenize(_ text: String) -> [String] {
                whitespace ? text.split(whereSeparator: { $0.isWhitespace }).map { String($0) } : CaptionTokenizer.tokenize(text)
            }
            var referencesByImage: [String: [[String]]] = [:]
            for (id, caption) in given { referencesByImage[id, default: []].append(tokenize(caption)) }
            var ids: [String] = [], seen = Set<String>()
            var candidateTokens: [[String]] = [], referenceTokens: [[[String]]] = []
            for (id, caption) in generated {
                guard seen.insert(id).inserted else {
                    throw MetricsError.duplicate(metric: "caption", what: "candidate for image_id", id: id)
                }
                guard let refs = referencesByImage[id] else {
                    throw MetricsError.malformedLine(file: references, line: 1, expected: "references for image_id \(id) (it has a candidate)")
                }
                ids.append(id)
                candidateTokens.append(tokenize(caption))
                referenceTokens.append(refs)
            }
            let bleu = try Captioning.bleu(candidates: candidateTokens, references: referenceTokens)
            let rouge = try Captioning.rougeL(candidates: candidateTokens, references: referenceTokens)
            let cider = try Captioning.ciderD(candidates: candidateTokens, references: referenceTokens)
            var out = MetricOutcome()
            out.inputs = ["candidates": candidates == "-" ? ["path": "-"] : try fileInput(candidates),
                          "references": try fileInput(references)]
            out.metrics = ["images": .int(ids.count), "references": .int(referenceTokens.reduce(0) { $0 + $1.count }),
                           "rouge_l": .double(rouge.mean), "cider_d": .double(cider.mean)]
            for (k, b) in bleu.enumerated() { out.metrics["bleu_\(k + 1)"] = .double(b) }
            if let imageLines {
                var text = ""
                for (i, id) in ids.enumerated() {
                    let object: JSONValue = ["image_id": try JSONValue.parse(id), "rouge_l": .double(rouge.perImage[i]),
                                             "cider_d": .double(cider.perImage[i])]
                    text += try object.jsonText() + "\n"
                }
                try OutputFile.write(Data(text.utf8), to: imageLines)
            }
            if perImage {
                var per: [String: JSONValue] = [:]
                for (i, id) in ids.enumerated() { per[id] = ["rouge_l": .double(rouge.perImage[i]), "cider_d": .double(cider.perImage[i])] }
                out.metrics["per_image"] = .object(per)
            }
            out.units = ["rouge_l": "fraction", "cider_d": "CIDEr-D (×10 scale)", "images": "images"]
            for k in 1...4 { out.units["bleu_\(k)"] = "fraction" }
            return out
        }
    }
}
