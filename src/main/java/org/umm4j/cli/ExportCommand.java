package org.umm4j.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.export.NpyArray;
import org.umm4j.export.TorchStateDict;
import org.umm4j.export.Npz;
import org.umm4j.train.Checkpoint;
import org.umm4j.train.RunDirectory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code umm4j export --checkpoint PATH --out FILE.npz [--no-heads] [--graph NAME]}: writes the weights of a trained
 * network as a PyTorch state dict with torchvision's ResNet key names ({@link TorchStateDict}) in a NumPy
 * {@code .npz}.
 *
 * <p>Nothing is rebuilt: the graph is restored as saved and its layers are named by the umm4j vertex naming
 * ({@code org.umm4j.nn.ResNets}, {@code org.umm4j.nn.Heads}), so the run's manifest is not needed. {@code PATH} is a
 * run directory (its latest checkpoint), a checkpoint directory ({@code RUN/checkpoints/epoch-NNNN}), or a model
 * file ({@code Backbone.save} or any DL4J {@code ModelSerializer} zip). {@code --graph target} exports a
 * checkpoint's auxiliary graph instead of the online one (BYOL's and MoCo's EMA target). Exit codes: 0 written,
 * 1 the graph cannot be exported (a layer outside the naming rules), 2 bad arguments (picocli).
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Export a checkpoint's backbone (and heads) as a PyTorch state dict in a NumPy .npz, with "
                + "torchvision resnet18/resnet50 key names.")
final class ExportCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--checkpoint", required = true, paramLabel = "PATH",
            description = "Run directory (latest checkpoint), checkpoint directory (RUN/checkpoints/epoch-NNNN) or model zip.")
    Path checkpoint;

    @Option(names = "--out", required = true, paramLabel = "FILE.npz", description = "Output file (written atomically).")
    Path out;

    @Option(names = "--no-heads", description = "Export the backbone only, without projector/predictor heads.")
    boolean noHeads;

    @Option(names = "--graph", paramLabel = "NAME",
            description = "Export the checkpoint's auxiliary graph NAME (e.g. target) instead of the online graph.")
    String graphName;

    @Override
    public Integer call() {
        Umm4jBackend.init();
        ComputationGraph g = restore();
        Map<String, NpyArray> sd;
        try {
            sd = TorchStateDict.of(g, !noHeads);
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("umm4j export: cannot export " + checkpoint + ": " + e.getMessage());
            return 1;
        }
        Npz.write(out, sd);
        PrintWriter o = spec.commandLine().getOut();
        String arch = sd.containsKey("layer1.0.conv3.weight") ? "resnet50" : "resnet18";
        long heads = sd.keySet().stream().filter(k -> !k.startsWith("conv1.") && !k.startsWith("bn1.")
                && !k.startsWith("layer")).count();
        o.printf("wrote %s: %d arrays, %d trainable parameters, torchvision %s keys%s%n", out, sd.size(),
                TorchStateDict.trainableCount(sd), arch, heads > 0 ? " + " + heads + " head arrays" : "");
        o.flush();
        return 0;
    }

    private ComputationGraph restore() {
        if (Files.isRegularFile(checkpoint)) {
            if (graphName != null) {
                throw bad("--graph needs a checkpoint directory, not the model file " + checkpoint);
            }
            try {
                return ModelSerializer.restoreComputationGraph(checkpoint.toFile(), false);
            } catch (IOException | RuntimeException e) {
                throw bad("--checkpoint " + checkpoint + " is not a DL4J ComputationGraph model file: " + e.getMessage());
            }
        }
        Checkpoint c;
        if (Files.isRegularFile(checkpoint.resolve("state.json"))) {
            c = Checkpoint.open(checkpoint);
        } else if (RunDirectory.exists(checkpoint) || Files.isDirectory(checkpoint.resolve(RunDirectory.CHECKPOINTS))) {
            c = Checkpoint.latest(checkpoint)
                    .orElseThrow(() -> bad("run directory " + checkpoint + " has no checkpoint yet"));
        } else {
            throw bad("--checkpoint " + checkpoint + " is neither a run directory, a checkpoint directory "
                    + "(with state.json) nor a model file");
        }
        if (graphName == null) {
            return c.restoreGraph(false);
        }
        if (!c.graphNames().contains(graphName)) {
            throw bad("checkpoint " + c.path() + " has no graph '" + graphName + "'; it has " + c.graphNames());
        }
        return c.restoreGraph(graphName, false);
    }

    private CommandLine.ParameterException bad(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
