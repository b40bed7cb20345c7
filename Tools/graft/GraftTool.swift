import ArgumentParser
import MLCore
import MLCoreCLI

/// `graft`: skill localization by grafting (Panigrahi et al., ICML 2023) on MiniLM-L6.
@main
struct GraftTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graft",
        abstract: "Skill localization by grafting: fine-tune, localize the skill in a sparse mask, evaluate, compare masks.",
        discussion: """
            A pipeline (Docs/graft.md):
              graft finetune --task polarity --k 16 --data-seed 13 --save ft.h5 -o finetune.json
              graft localize --finetuned ft.h5 --sparsity 1e-4 --save-mask mask.h5 -o localize.json
              graft eval --finetuned ft.h5 --mask mask.h5 -o eval.json
              graft overlap polarity-mask.h5 subjectivity-mask.h5
            """,
        version: MLCoreVersion.string,
        subcommands: [Finetune.self, Localize.self, Evaluate.self, Overlap.self, Continual.self, Bench.self, MergeCommand.self])

    static func main() { mainWithOneLineErrors() }
}
