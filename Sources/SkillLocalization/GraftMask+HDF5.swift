import Foundation
import MLCore

/// Mask files: one HDF5 file per mask (Docs/CHECKPOINT_FORMAT.md: artifacts are HDF5 with provenance).
///
/// Layout: root attributes `format` = "mlcore-graft-mask", `format_version` = 1, `names` (the
/// parameter names in order), `parameter_count` (N), `selected` (Σγ̂), `sparsity` (Σγ̂/N), plus the
/// caller's provenance attributes (e.g. `pretrained`, `finetuned` as JSON with path and sha256,
/// `task`, `requested_sparsity`, `base_patch_rule`); one uint8 0/1 dataset per parameter under
/// `/mask`, keyed by the dotted name as nested groups (`/mask/encoder/layer/0/.../weight`), with
/// the parameter's shape, gzip-compressed.
extension GraftMask {
    /// The `format` attribute of mask files.
    public static let fileFormat = "mlcore-graft-mask"

    /// Writes the mask to `path` (replacing any file there) with `attributes` as extra root
    /// attributes.
    /// - Throws: `HDF5Error` (cannot create, disk full).
    public func write(to path: String, attributes: [String: HDF5AttributeValue] = [:]) throws {
        try HDF5File.createAtomically(path) { file in
            let root = file.root.attributes
            try root.set("format", .string(GraftMask.fileFormat))
            try root.set("format_version", .int(1))
            try root.set("names", .strings(names))
            try root.set("parameter_count", .int(parameterCount))
            try root.set("selected", .int(selectedCount))
            try root.set("sparsity", .double(sparsity))
            for (k, v) in attributes.sorted(by: { $0.key < $1.key }) { try root.set(k, v) }
            let group = try file.root.createGroup("mask")
            for (name, value) in zip(names, values) {
                let bytes = value.withUnsafeBufferPointer { b in b.map { $0 != 0 ? UInt8(1) : 0 } }
                try group.createDataset(name.replacingOccurrences(of: ".", with: "/"), shape: value.shape,
                                        data: bytes, deflate: value.count >= 4096 ? 4 : nil)
            }
        }
    }

    /// Reads a mask file and its root attributes.
    /// - Throws: `HDF5Error` (missing file → exit 66); `SkillLocalizationError.malformedFile` when
    ///   the file is not a mask file, a named dataset is missing or holds a value other than 0/1.
    public static func read(from path: String) throws -> (mask: GraftMask, attributes: [String: HDF5AttributeValue]) {
        let file = try HDF5File(path: path, mode: .readOnly)
        let root = file.root.attributes
        let format = try root.contains("format") ? try root.string("format") : nil
        guard format == GraftMask.fileFormat else {
            throw SkillLocalizationError.malformedFile(file: path, detail: "not a graft mask (format \(format ?? "absent"), expected \(GraftMask.fileFormat))")
        }
        guard try root.contains("names") else {
            throw SkillLocalizationError.malformedFile(file: path, detail: "no `names` attribute")
        }
        let names = try root.strings("names")
        var values: [Tensor] = []
        for name in names {
            let key = "/mask/" + name.replacingOccurrences(of: ".", with: "/")
            guard try file.root.contains(String(key.dropFirst())) else {
                throw SkillLocalizationError.malformedFile(file: path, detail: "dataset \(key) for \(name) is missing")
            }
            let dataset = try file.dataset(key)
            let bytes = try dataset.read(as: UInt8.self)
            guard bytes.allSatisfy({ $0 <= 1 }) else {
                throw SkillLocalizationError.malformedFile(file: path, detail: "\(key) holds values other than 0 and 1")
            }
            values.append(Tensor(bytes.map { Float($0) }, shape: dataset.shape))
        }
        var attributes: [String: HDF5AttributeValue] = [:]
        for (name, value) in try root.all() { attributes[name] = value }
        return (GraftMask(names: names, values: values), attributes)
    }
}
