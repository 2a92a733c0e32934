package org.umm4j.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class LayerwiseResultTest {
    @TempDir
    Path dir;

    static LayerwiseResult sample() {
        return new LayerwiseResult(List.of(
                new LayerwiseResult.Row(0, "stage2", 0.30, 0.31, 0.35, 0.80, 1.5, 0.40),
                new LayerwiseResult.Row(0, "pool", 0.40, 0.42, 0.45, 0.85, 2.0, 0.50),
                new LayerwiseResult.Row(4, "stage2", 0.33, 0.34, 0.37, 0.82, 1.6, 0.45),
                new LayerwiseResult.Row(4, "pool", 0.50, 0.52, 0.55, 0.90, 2.6, 0.70),
                new LayerwiseResult.Row(9, "stage2", 0.32, 0.33, 0.36, 0.81, 1.55, 0.41),
                new LayerwiseResult.Row(9, "pool", 0.55, 0.56, 0.60, 0.92, 2.9, 0.75)));
    }

    @Test
    void csvRoundTripAndPearsonPerTap() throws Exception {
        LayerwiseResult r = sample();
        Path csv = dir.resolve("layerwise.csv");
        r.write(csv);
        assertEquals(String.join(",", LayerwiseResult.COLUMNS), Files.readAllLines(csv).get(0));
        LayerwiseResult back = LayerwiseResult.read(csv);
        assertEquals(r.rows(), back.rows());
        assertEquals(List.of("stage2", "pool"), back.taps());
        assertArrayEquals(new double[]{0, 4, 9}, back.epochs("pool"));
        assertArrayEquals(new double[]{0.45, 0.55, 0.60}, back.column("pool", "probe_top1"), 1e-12);
        // numpy: np.corrcoef([0.5, 0.7, 0.75], [0.45, 0.55, 0.60])[0, 1]
        assertEquals(0.9897433186107871, back.pearson("pool", "dR_instance", "probe_top1"), 1e-9);
        assertEquals(Pearson.correlation(new double[]{1.5, 1.6, 1.55}, new double[]{0.30, 0.33, 0.32}),
                back.pearson("stage2", "dR_label", "knn5_top1"), 1e-12);
        assertEquals(2 * 2 * 4 + 1, back.pearsonTable().toCsv().split("\n").length);
    }

    @Test
    void badFilesAndRowsAreRejectedWithClearMessages() throws Exception {
        Path bad = dir.resolve("bad.csv");
        Files.writeString(bad, "epoch,loss\n1,2\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LayerwiseResult.read(bad));
        assertTrue(e.getMessage().contains("not a layer-wise result"), e.getMessage());
        Path torn = dir.resolve("torn.csv");
        Files.writeString(torn, String.join(",", LayerwiseResult.COLUMNS) + "\n0,pool,0.5,0.5\n");
        e = assertThrows(IllegalArgumentException.class, () -> LayerwiseResult.read(torn));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new LayerwiseResult.Row(0, "pool", 1.5, 0, 0, 0, 0, 0));
        assertTrue(e.getMessage().contains("knn5_top1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> sample().rows("stage9"));
        assertTrue(Double.isNaN(new LayerwiseResult(List.of(sample().rows().get(0))).pearson("stage2", "dR_label",
                "probe_top1")));
    }
}
