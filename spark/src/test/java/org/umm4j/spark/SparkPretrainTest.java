package org.umm4j.spark;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.umm4j.train.Checkpoint;
import org.umm4j.train.MetricsLog;
import picocli.CommandLine;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

@Tag("slow")
class SparkPretrainTest {

    @Test
    void cliTrainsOnLocalSparkAndWritesARunDirectory(@TempDir Path tmp) {
        Path out = tmp.resolve("run");
        int rc = new CommandLine(new SparkPretrain()).execute("--spark-master", "local[2]", "--method", "vicreg",
                "--epochs", "1", "--batch-per-worker", "8", "--workers", "2", "--averaging-frequency", "1",
                "--dataset", "synthetic", "--train-limit", "40", "--width", "0.0625", "--head-scale", "0.004",
                "--out", out.toString());
        assertEquals(0, rc);
        List<Map<String, String>> rows = MetricsLog.read(out.resolve("metrics.csv"));
        assertEquals(1, rows.size());
        assertNotEquals("NaN", rows.get(0).get("loss"));
        assertEquals(0, Checkpoint.latest(out).orElseThrow().epoch());
    }

    @Test
    void learningRateScaling() {
        assertEquals(0.1, SparkPretrain.scaledLearningRate(0.1, 4, "none"), 0);
        assertEquals(0.4, SparkPretrain.scaledLearningRate(0.1, 4, "linear"), 1e-15);
        assertEquals(0.2, SparkPretrain.scaledLearningRate(0.1, 4, "sqrt"), 1e-15);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SparkPretrain.scaledLearningRate(0.1, 4, "cubic"));
        assertEquals(true, e.getMessage().contains("--lr-scaling"));
    }

    @Test
    void unsupportedMethodIsRejectedByName(@TempDir Path tmp) {
        int rc = new CommandLine(new SparkPretrain()).execute("--method", "byol", "--out", tmp.toString());
        assertNotEquals(0, rc);
    }
}
