package org.umm4j.cli;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.umm4j.report.CsvTable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The demo end to end at test scale: every stage runs and the report shows the comparison. */
@Tag("slow")
class DemoCommandTest {
    @TempDir
    Path dir;

    @Test
    void runsEveryStageAndWritesTheReport() throws Exception {
        Path out = dir.resolve("demo");
        int code = Umm4j.run("demo", "--out", out.toString(), "--epochs", "2", "--train-limit", "64", "--test-limit", "40",
                "--batch-size", "16", "--probe-epochs", "2", "--width", "0.0625");
        assertEquals(0, code);
        for (String f : List.of("index.html", "comparison.csv", "pretrain/manifest.json", "pretrain/eval/layerwise.csv",
                "pretrain/eval/accuracy.png", "pretrain/report/loss.png", "umm/eval/layerwise.csv",
                "control/eval/layerwise.csv")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        List<String> rows = Files.readAllLines(out.resolve("comparison.csv"));
        // header + (pretrained, control, UMM) x (early, last tap)
        assertEquals(7, rows.size(), rows.toString());
        assertTrue(rows.stream().anyMatch(r -> r.startsWith("UMM,pool,")), rows.toString());
        String html = Files.readString(out.resolve("index.html"));
        assertTrue(html.contains("<td>UMM</td>") && html.contains("pretrain/eval/accuracy.png"));
    }

    @Test
    void aFailingStageIsAClearError() {
        int code = Umm4j.run("demo", "--out", dir.resolve("bad").toString(), "--dataset", "cifar10");
        assertNotEquals(0, code, "cifar10 without --data-dir must fail");
    }
}
