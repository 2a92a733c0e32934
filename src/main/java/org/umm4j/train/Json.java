package org.umm4j.train;

import org.nd4j.shade.jackson.core.type.TypeReference;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Small JSON helpers over DL4J's shaded Jackson for manifests and checkpoint state (maps of plain values). */
final class Json {
    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {
    };

    private Json() {
    }

    private static ObjectMapper mapper() {
        // a fresh mapper per call keeps the class free of shared mutable state; these files are tiny
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
    }

    static String write(Map<String, ?> map) {
        try {
            return mapper().writeValueAsString(map);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot serialise to JSON: " + e.getMessage(), e);
        }
    }

    static Map<String, Object> read(Path file) {
        try {
            return mapper().readValue(Files.readString(file), MAP);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read JSON " + file, e);
        }
    }
}
