import ArgumentParser
import MLCore
import MLCoreCLI

/// `pregated-moe`: Pre-gated MoE inference (Hwang et al., ISCA 2024) on a MoE constructed from SmolLM2.
@main
struct PregatedMoETool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pregated-moe",
        abstract: "Pre-gated MoE: build a MoE from SmolLM2, train gates and pre-gates, run with offloaded experts, simulate the paper's GPU setting.",
        discussion: """
            A pipeline (Docs/pregated-moe.md):
              pregated-moe moefy --weights smollm2 --experts 8 --save moe.h5 -o moefy.json
              pregated-moe train-gates --weights moe.h5 --save routers.h5 -o gates.json
              pregated-moe run --weights moe.h5 --routers routers.h5 --threads 1 \\
                  --save-trace trace.h5 -o run.json
              pregated-moe simulate --model all --link pcie -o simulate.json
            The MoE is constructed (SmolLM2-135M's FFNs split into experts), not a pre-trained MoE.
            """,
        version: MLCoreVersion.string,
        subcommands: [Moefy.self, TrainGates.self, Evaluate.self, Run.self, Simulate.self, MergeCommand.self])

    static func main() { mainWithOneLineErrors() }
}
