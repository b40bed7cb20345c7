import MLCore

extension MaskTrainer {
    /// Localizes a sentence classifier's skill: base patch from `space.delta` at `sparsity`, scores
    /// S ~ U[0, 1) from `rng`, then `train` with the mean cross-entropy of `trainSplit` batches and
    /// (train accuracy, dev accuracy) as the selection score — the whole of the reference's
    /// `train_graft` for one task. Train accuracy is measured on at most 1024 training items
    /// (`LabelledTexts.evaluationSample`; all of them for k-shot splits).
    /// - Parameters:
    ///   - parameters: the classifier's parameters for `space.names` (other parameters should be frozen).
    /// - Returns: the training result and the base patch's size.
    /// - Throws: `SkillLocalizationError.invalidArgument` for a sparsity outside [0, 1].
    public static func localize(_ classifier: SentenceClassifier, space: GraftSpace, parameters: [Parameter],
                                train trainSplit: LabelledTexts, dev: LabelledTexts, sparsity: Double, rule: BasePatchRule,
                                config: MaskTrainingConfig, rng: inout RandomGenerator,
                                onEpoch: (MaskEpoch) -> Void = { _ in }) throws -> (result: MaskTrainingResult, basePatch: GraftMask) {
        let trainSample = trainSplit.evaluationSample()
        let base = GraftMask(names: space.names, values: try BasePatch.make(delta: space.delta, sparsity: sparsity, rule: rule))
        let initial = MaskScores(basePatch: base.values, names: space.names, sigmoidBias: config.sigmoidBias, rng: &rng)
        let result = train(space: space, parameters: parameters, initial: initial, config: config, trainCount: trainSplit.count,
                           rng: &rng, loss: { classifier.loss(trainSplit, indices: $0) },
                           evaluate: { (classifier.accuracy(trainSample), classifier.accuracy(dev)) }, onEpoch: onEpoch)
        return (result, base)
    }
}
