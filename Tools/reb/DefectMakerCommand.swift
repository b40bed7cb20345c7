import ArgumentParser
import Foundation
import MLCore
import MLCoreCLI
import REB

/// `reb defectmaker`: the six DefectMaker versions of a few normal images, with their masks, for inspection.
struct DefectMakerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "defectmaker",
        abstract: "Make DefectMaker's six defect versions (3 Bezier shapes × cut/noise fills) of a few training normal images.",
        discussion: """
            Example:
              reb defectmaker --count 4 --save defects.h5 --sheet defects.png
            Writes /images uint8 [N, 7, H, W, 3] (version 0 the normal image, then rect-cut, \
            rect-noise, scar-cut, scar-noise, clump-cut, clump-noise), /masks uint8 [N, 7, H, W] \
            (1 inside the defect region) and /index (dataset rows); --sheet draws them as a PNG \
            contact sheet, one row per image, the defect outlines in red. Cut fills come from the \
            next image of the training split. Same --seed, same defects.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var data: DataOptions

    @Option(help: "Normal images to make defects on (the first of the training split).")
    var count = 4

    @Option(help: ArgumentHelp("Where to write the images and masks (HDF5).", valueName: "file"))
    var save: String

    @Option(help: ArgumentHelp("Where to write a PNG contact sheet.", valueName: "file"))
    var sheet: String?

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
    }

    func run() throws {
        try ToolRunner.run(tool: "reb", command: "defectmaker", options: common, reflecting: self) { context in
            let (set, split) = try context.timer.measure("data") { try data.load() }
            guard split.train.count >= 2 else {
                throw REBError.emptySet(what: "the donor images", reason: "--train-normals \(data.trainNormals) gives no second image to cut fills from")
            }
            let rows = Array(split.train.prefix(count))
            let donorRows = rows.indices.map { split.train[($0 + 1) % split.train.count] }
            let images = try set.images(rows), donors = try set.images(donorRows)
            let maker = DefectMaker()
            var rng = context.random
            let versions = DefectKind.all.count + 1
            var pixels: [UInt8] = [], masks: [UInt8] = []
            var cells: [(RGBImage, [UInt8])] = []
            var areas: [String: [Double]] = [:]
            try context.timer.measure("make") {
                for (image, donor) in zip(images, donors) {
                    cells.append((image, [UInt8](repeating: 0, count: set.width * set.height)))
                    for kind in DefectKind.all {
                        let (out, mask) = maker.make(image, kind: kind, donor: donor, rng: &rng)
                        cells.append((out, mask))
                        areas[kind.description, default: []].append(Double(mask.reduce(0) { $0 + Int($1) }) / Double(mask.count))
                    }
                }
                for (image, mask) in cells {
                    pixels += image.pixels
                    masks += mask
                }
                try HDF5File.createAtomically(save) { file in
                    try file.root.createDataset("images", shape: [rows.count, versions, set.height, set.width, 3], data: pixels)
                    try file.root.createDataset("masks", shape: [rows.count, versions, set.height, set.width], data: masks)
                    try file.root.createDataset("index", shape: [rows.count], data: rows.map(Int32.init))
                    try file.root.attributes.set("class_names", .strings(["normal"] + DefectKind.all.map(\.description)))
                    try file.root.attributes.set("seed", .string(String(common.seed)))
                    try file.root.attributes.set("dataset", .string(set.path))
                }
                if let sheet {
                    let png = try contactSheet(cells, columns: versions, width: set.width, height: set.height).pngData()
                    try OutputFile.write(png, to: sheet)
                }
            }
            var report = Report(tool: "reb", command: "defectmaker")
            report.paper = paperCitation
            report.inputs = ["dataset": try fileInput(set.path), "rows": JSONValue(rows)]
            report.config = ["edge_blur_probability": .double(maker.edgeBlurProbability)]  // options: ToolRunner (reflecting)
            try report.setMetrics(DefectMakerMetrics(versions: ["normal"] + DefectKind.all.map(\.description),
                                                     meanDefectArea: areas.mapValues { $0.reduce(0, +) / Double($0.count) }))
            report.units = ["mean_defect_area": "fraction of the image"]
            return report
        }
    }

    /// Cells in rows of `columns`, 4-pixel white gaps, each mask's boundary pixels drawn red.
    func contactSheet(_ cells: [(RGBImage, [UInt8])], columns: Int, width: Int, height: Int) -> RGBImage {
        let gap = 4, rows = (cells.count + columns - 1) / columns
        let sw = columns * (width + gap) - gap, sh = rows * (height + gap) - gap
        var pixels = [UInt8](repeating: 255, count: sw * sh * 3)
        for (i, (image, mask)) in cells.enumerated() {
            let ox = (i % columns) * (width + gap), oy = (i / columns) * (height + gap)
            for y in 0..<height {
                for x in 0..<width {
                    let p = y * width + x
                    var rgb = [image.pixels[p * 3], image.pixels[p * 3 + 1], image.pixels[p * 3 + 2]]
                    if mask[p] == 1 {
                        let edge = [(0, 1), (1, 0), (0, -1), (-1, 0)].contains { dx, dy in
                            let nx = x + dx, ny = y + dy
                            return nx < 0 || ny < 0 || nx >= width || ny >= height || mask[ny * width + nx] == 0
                        }
                        if edge { rgb = [255, 0, 0] }
                    }
                    let q = ((oy + y) * sw + ox + x) * 3
                    pixels[q] = rgb[0]; pixels[q + 1] = rgb[1]; pixels[q + 2] = rgb[2]
                }
            }
        }
        return RGBImage(width: sw, height: sh, pixels: pixels)
    }
}

/// `reb defectmaker`'s metrics (snake_case keys in the report; units in `report.units`).
struct DefectMakerMetrics: Encodable {
    /// The columns of the contact sheet: "normal", then each defect kind.
    var versions: [String]
    /// Mean defect-mask area per defect kind, as a fraction of the image.
    var meanDefectArea: [String: Double]
}
