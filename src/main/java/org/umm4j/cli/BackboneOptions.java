package org.umm4j.cli;

import org.umm4j.data.ImageDataset;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Stem;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The backbone flags shared by the training commands ({@code --backbone --width --stem --head-scale}) and their
 * manifest round trip. Defaults are CPU-sized: ResNet-18 at width 0.25 (16 base channels) with the CIFAR stem
 * and heads at 1/16 of the papers' widths; {@code --width 1 --head-scale 1} is the paper configuration.
 */
public final class BackboneOptions {
    @Option(names = "--backbone", defaultValue = "resnet18", description = "resnet18 or resnet50 (default: ${DEFAULT-VALUE}).")
    String backbone = "resnet18";

    @Option(names = "--width", defaultValue = "0.25",
            description = "Width multiplier of the ResNet (1 = paper; default: ${DEFAULT-VALUE}).")
    double width = 0.25;

    @Option(names = "--stem", defaultValue = "auto",
            description = "cifar (3x3/1, no max-pool), imagenet (7x7/2 + max-pool) or auto (cifar below 64 px; default: ${DEFAULT-VALUE}).")
    String stem = "auto";

    @Option(names = "--head-scale", defaultValue = "0.0625",
            description = "Factor on the papers' projector/predictor widths (1 = paper; default: ${DEFAULT-VALUE}).")
    double headScale = 0.0625;

    /** @return a validated copy from explicit values */
    public static BackboneOptions of(String backbone, double width, String stem, double headScale) {
        BackboneOptions o = new BackboneOptions();
        o.backbone = backbone;
        o.width = width;
        o.stem = stem;
        o.headScale = headScale;
        o.depth();
        return o;
    }

    int depth() {
        return switch (backbone.toLowerCase(Locale.ROOT)) {
            case "resnet18" -> 18;
            case "resnet50" -> 50;
            default -> throw new IllegalArgumentException("--backbone '" + backbone + "' is not one of resnet18, resnet50");
        };
    }

    /** @return the head scale */
    public double headScale() {
        return headScale;
    }

    /** @return the ResNet for images of {@code data}'s shape */
    public ResNetConfig config(ImageDataset data, long seed) {
        Stem s = switch (stem.toLowerCase(Locale.ROOT)) {
            case "cifar" -> Stem.CIFAR;
            case "imagenet" -> Stem.IMAGENET;
            case "auto" -> data.height() < 64 ? Stem.CIFAR : Stem.IMAGENET;
            default -> throw new IllegalArgumentException("--stem '" + stem + "' is not one of cifar, imagenet, auto");
        };
        return ResNetConfig.builder().setDepth(depth()).setStem(s).setInput(data.channels(), data.height(), data.width())
                .optWidthMultiplier(width).optSeed(seed).build();
    }

    /** @return the flags as manifest entries */
    public Map<String, Object> toManifest() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("backbone", backbone);
        m.put("width", width);
        m.put("stem", stem);
        m.put("headScale", headScale);
        return m;
    }

    /** Rebuilds the options from {@link #toManifest()} entries. */
    public static BackboneOptions fromManifest(Map<String, ?> m) {
        return of(String.valueOf(m.get("backbone")), ((Number) m.get("width")).doubleValue(), String.valueOf(m.get("stem")),
                ((Number) m.get("headScale")).doubleValue());
    }
}
