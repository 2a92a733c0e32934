package org.umm4j.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

import static org.junit.jupiter.api.Assertions.*;

class ResNetConfigTest {

    private static ResNetConfig.Builder valid() {
        return ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 32, 32);
    }

    @Test
    void defaultsAndDerivedSizes() {
        ResNetConfig c = valid().build();
        assertEquals(1.0, c.widthMultiplier());
        assertEquals(DataType.FLOAT, c.dataType());
        assertArrayEquals(new int[]{64, 128, 256, 512}, c.stageWidths());
        assertEquals(512, c.featureSize());
        ResNetConfig r50 = valid().setDepth(50).optWidthMultiplier(0.25).build();
        assertArrayEquals(new int[]{16, 32, 64, 128}, r50.stageWidths());
        assertEquals(4, r50.expansion());
        assertEquals(512, r50.featureSize());
        assertEquals(64, r50.stageChannels(1));
        assertArrayEquals(new int[]{3, 4, 6, 3}, r50.blocksPerStage());
    }

    @Test
    void widthsAreRoundedAndAtLeastOne() {
        assertArrayEquals(new int[]{8, 16, 32, 64}, valid().optWidthMultiplier(0.125).build().stageWidths());
        assertArrayEquals(new int[]{1, 1, 1, 2}, valid().optWidthMultiplier(0.003).build().stageWidths());
        assertArrayEquals(new int[]{24, 48, 96, 192}, valid().optWidthMultiplier(0.375).build().stageWidths());
    }

    @Test
    void validationErrorsNameTheField() {
        assertMessage("depth", () -> valid().setDepth(34).build());
        assertMessage("widthMultiplier", () -> valid().optWidthMultiplier(0).build());
        assertMessage("widthMultiplier", () -> valid().optWidthMultiplier(Double.NaN).build());
        assertMessage("inputChannels", () -> valid().setInput(0, 32, 32).build());
        assertMessage("height", () -> valid().setInput(3, 0, 32).build());
        assertMessage("width", () -> valid().setInput(3, 32, -1).build());
        assertMessage("dataType", () -> valid().optDataType(DataType.INT).build());
        assertMessage("stem", () -> ResNetConfig.builder().setDepth(18).setInput(3, 8, 8).build());
        assertMessage("depth", () -> ResNetConfig.builder().setStem(Stem.CIFAR).setInput(3, 8, 8).build());
        assertMessage("inputChannels", () -> ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).build());
    }

    private static void assertMessage(String field, org.junit.jupiter.api.function.Executable e) {
        RuntimeException ex = (RuntimeException) assertThrows(RuntimeException.class, e);
        assertTrue(ex.getMessage().contains(field), "message should name '" + field + "': " + ex.getMessage());
    }
}
