package org.umm4j.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.umm4j.ssl.LossAndGradients;
import org.umm4j.ssl.Objective;
import org.umm4j.ssl.ObjectiveInput;
import org.umm4j.ssl.Objectives;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Loss + gradient time of each SSL objective on one batch of FLOAT embeddings (N = batch, D = embedding size),
 * i.e. the per-step overhead an objective adds on top of the network's forward and backward passes.
 * VICRegL also gets [N, 64, 7, 7] feature maps; SwAV 3 crops and 100 prototypes; MoCo a 4096-key queue.
 * Run: {@code java -jar target/benchmarks.jar ObjectivesBenchmark -f 1 -wi 2 -i 3}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class ObjectivesBenchmark {

    @Param({"simclr", "byol", "barlow", "vicreg", "vicregl", "simsiam", "mocov2", "wmse", "swav", "superinfo"})
    public String objective;

    @Param({"256"})
    public int n;

    @Param({"128"})
    public int d;

    private Objective obj;
    private ObjectiveInput input;

    @Setup
    public void setup() {
        Random rnd = Nd4j.getRandomFactory().getNewRandomInstance(42);
        obj = Objectives.create(objective, objective.equals("wmse") ? Map.of("subBatchSize", 256.0) : Map.of());
        INDArray z1 = g(rnd, n, d);
        INDArray z2 = g(rnd, n, d);
        input = switch (objective) {
            case "byol", "simsiam", "mocov2" -> new ObjectiveInput(List.of(z1, z2), List.of(g(rnd, n, d), g(rnd, n, d)),
                    objective.equals("mocov2") ? Map.of("queue", unit(g(rnd, 4096, d))) : Map.of());
            case "swav" -> new ObjectiveInput(List.of(z1, z2, g(rnd, n, d)), List.of(),
                    Map.of("prototypes", g(rnd, d, 100)));
            case "vicregl" -> {
                INDArray coords = g(rnd, n, 49, 2).muli(50);
                yield new ObjectiveInput(List.of(z1, z2, g(rnd, n, 64, 7, 7), g(rnd, n, 64, 7, 7)), List.of(),
                        Map.of("coords1", coords, "coords2", coords.add(3)));
            }
            case "superinfo" -> ObjectiveInput.ofViews(z1, z2, g(rnd, n, d).muli(0.1), g(rnd, n, d).muli(0.1));
            default -> ObjectiveInput.of(z1, z2);
        };
    }

    private static INDArray g(Random rnd, long... shape) {
        return rnd.nextGaussian(shape).castTo(DataType.FLOAT);
    }

    private static INDArray unit(INDArray x) {
        return x.divColumnVector(x.norm2(1).reshape(x.rows(), 1));
    }

    @Benchmark
    public LossAndGradients lossAndGradients() {
        return obj.compute(input);
    }
}
