import MLCore

/// The splits of one task: a fixed held-out test split and a fixed dev split (the same for every
/// seed), and a training pool from which `kShot(k:seed:)` draws the few-shot training sets.
///
/// Construction (deterministic): tweets not in the task are dropped, as are repeated texts (the
/// first occurrence is kept, so a retweet cannot sit in both train and test); each class's items
/// are shuffled by a generator seeded with `splitSeed`; per class, the first `testPerClass` go to
/// test, the next `devPerClass` to dev and the rest to the training pool. The k-shot set of a seed
/// takes the first k of each class's pool after shuffling it with that seed (LM-BFF's
/// generate_k_shot_data.py draws k per class per seed the same way), so different seeds give
/// different, overlapping sets. Source: Docs/graft.md, "Adaptation to this project"; LM-BFF (Gao et al. 2021).
public struct TaskSplits: Sendable {
    /// The seed of the fixed test/dev partition.
    public static let splitSeed: UInt64 = 2023
    /// The seeds of the paper's k-shot splits.
    public static let paperSeeds: [UInt64] = [13, 21, 42, 87, 100]

    /// The task these splits belong to.
    public let task: SkillTask
    /// The held-out test split (balanced: `testPerClass` per class), in shuffled order.
    public let test: LabelledTexts
    /// The dev split (balanced: `devPerClass` per class), used for model selection.
    public let dev: LabelledTexts
    /// The training pool, per class, in the fixed shuffled order.
    public let pool: [[String]]

    /// Builds the splits from the tweets' texts and sentiment labels (0 negative, 1 neutral,
    /// 2 positive).
    /// - Throws: `SkillLocalizationError.emptySplit` when a class has no more than
    ///   `testPerClass + devPerClass` items (the pool would be empty); `.invalidArgument` for a
    ///   negative size; `.malformedFile` for label/text count mismatch.
    public init(task: SkillTask, texts: [String], tweetLabels: [Int], testPerClass: Int = 500,
                devPerClass: Int = 64) throws {
        guard texts.count == tweetLabels.count else {
            throw SkillLocalizationError.malformedFile(file: "tweets", detail: "\(texts.count) texts but \(tweetLabels.count) labels")
        }
        guard testPerClass >= 0, devPerClass >= 0 else {
            throw SkillLocalizationError.invalidArgument("test and dev sizes must not be negative (\(testPerClass), \(devPerClass))")
        }
        let classCount = task.classNames.count
        var byClass = [[String]](repeating: [], count: classCount)
        var seen = Set<String>()
        for (text, tweetLabel) in zip(texts, tweetLabels) {
            guard let y = task.label(forTweetLabel: tweetLabel), seen.insert(text).inserted else { continue }
            byClass[y].append(text)
        }
        var rng = RandomGenerator(seed: TaskSplits.splitSeed)
        var test = LabelledTexts(texts: [], labels: []), dev = test
        var pool: [[String]] = []
        for (y, items) in byClass.enumerated() {
            var shuffled = items
            rng.shuffle(&shuffled)
            guard shuffled.count > testPerClass + devPerClass else {
                throw SkillLocalizationError.emptySplit(
                    task: task.rawValue, split: "train",
                    reason: "class \(task.classNames[y]) has \(shuffled.count) distinct texts, not more than test \(testPerClass) + dev \(devPerClass)")
            }
            test = test.appending(LabelledTexts(texts: Array(shuffled[0..<testPerClass]),
                                                labels: Array(repeating: y, count: testPerClass)))
            dev = dev.appending(LabelledTexts(texts: Array(shuffled[testPerClass..<(testPerClass + devPerClass)]),
                                              labels: Array(repeating: y, count: devPerClass)))
            pool.append(Array(shuffled[(testPerClass + devPerClass)...]))
        }
        self.task = task
        self.test = test.subset(rng.permutation(test.count))
        self.dev = dev.subset(rng.permutation(dev.count))
        self.pool = pool
    }

    /// Reads the `tweets` dataset (Tools/data/convert_tweets.py: `/text` strings, `/label` int32)
    /// and builds the splits of `task`.
    /// - Throws: `HDF5Error` (missing file → exit 66, unreadable), `SkillLocalizationError`.
    public static func load(tweets path: String, task: SkillTask, testPerClass: Int = 500,
                            devPerClass: Int = 64) throws -> TaskSplits {
        let file = try HDF5File(path: path, mode: .readOnly)
        guard try file.root.contains("text"), try file.root.contains("label") else {
            throw SkillLocalizationError.malformedFile(file: path, detail: "expected datasets /text and /label (the tweets dataset)")
        }
        let texts = try file.dataset("/text").readStrings()
        let labels = try file.dataset("/label").read(as: Int32.self).map(Int.init)
        return try TaskSplits(task: task, texts: texts, tweetLabels: labels, testPerClass: testPerClass,
                              devPerClass: devPerClass)
    }

    /// k examples per class drawn with `seed` (see the type's description; `Splits.kShot`), in an
    /// order shuffled with the same generator.
    /// - Throws: `SkillLocalizationError.invalidArgument` for k ≤ 0, `.emptySplit` when a class's
    ///   pool holds fewer than k texts.
    public func kShot(k: Int, seed: UInt64) throws -> LabelledTexts {
        guard k > 0 else { throw SkillLocalizationError.invalidArgument("k must be positive, got \(k)") }
        for (y, items) in pool.enumerated() where items.count < k {
            throw SkillLocalizationError.emptySplit(task: task.rawValue, split: "train",
                                                    reason: "\(k) per class requested, class \(task.classNames[y]) has \(items.count)")
        }
        var rng = RandomGenerator(seed: seed)
        let (texts, labels) = Splits.kShot(pools: pool, k: k, using: &rng)
        return LabelledTexts(texts: texts, labels: labels)
    }

    /// The whole training pool (every class), in the fixed shuffled order of each class, classes
    /// interleaved by a generator seeded with `splitSeed`.
    public var fullTrain: LabelledTexts {
        var out = LabelledTexts(texts: [], labels: [])
        for (y, items) in pool.enumerated() {
            out = out.appending(LabelledTexts(texts: items, labels: Array(repeating: y, count: items.count)))
        }
        var rng = RandomGenerator(seed: TaskSplits.splitSeed)
        return out.subset(rng.permutation(out.count))
    }

    /// The training split: `kShot(k:seed:)` for k > 0, `fullTrain` for k = nil.
    public func train(k: Int?, seed: UInt64) throws -> LabelledTexts {
        guard let k else { return fullTrain }
        return try kShot(k: k, seed: seed)
    }
}

/// The movie-review polarity sentences of gensim's test data (Pang & Lee; `/pang_lee_polarity` in
/// the `gensim-corpora` dataset, Tools/data/convert_gensim.py): 200 sentences, 0 negative,
/// 1 positive — the out-of-distribution set of `SkillTask.polarity`.
public enum MovieReviews {
    /// Reads the 200 labelled sentences.
    /// - Throws: `HDF5Error` (missing file → exit 66), `SkillLocalizationError.malformedFile` when the
    ///   group is absent or labels are not 0/1, `.emptySplit` when it holds no sentence.
    public static func load(_ path: String) throws -> LabelledTexts {
        let file = try HDF5File(path: path, mode: .readOnly)
        guard try file.root.contains("pang_lee_polarity") else {
            throw SkillLocalizationError.malformedFile(file: path, detail: "no /pang_lee_polarity group (expected the gensim-corpora dataset)")
        }
        let texts = try file.dataset("/pang_lee_polarity/text").readStrings()
        let labels = try file.dataset("/pang_lee_polarity/label").read(as: Int32.self).map(Int.init)
        guard texts.count == labels.count, labels.allSatisfy({ $0 == 0 || $0 == 1 }) else {
            throw SkillLocalizationError.malformedFile(file: path, detail: "/pang_lee_polarity: expected one 0/1 label per text")
        }
        guard !texts.isEmpty else {
            throw SkillLocalizationError.emptySplit(task: "polarity", split: "ood", reason: "\(path) holds no sentence")
        }
        return LabelledTexts(texts: texts, labels: labels)
    }
}
