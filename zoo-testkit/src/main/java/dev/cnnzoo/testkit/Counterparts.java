package dev.cnnzoo.testkit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.Counterpart;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelZoo;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The zoo's counterparts of its models, as the test scripts take them: the Java side passes what
 * the models' metadata says, and the scripts' {@code counterpart(spec)} (in {@code zoo_helpers.py})
 * builds it, so the scripts keep no table of constructors of their own.
 */
public final class Counterparts {
    private Counterparts() {
    }

    /** One model's counterpart in {@code library}: {@code {"library": ..., "name": ..., "kwargs": {...}, "input": [C, H, W]}}. */
    public static String of(ModelZoo zoo, Counterpart.Library library, String id) {
        return json(describe(zoo.find(id), library));
    }

    /** Several models' counterparts in {@code library}, by id: {@code {"resnet18": {...}, "resnet50": {...}}}. */
    public static String byId(ModelZoo zoo, Counterpart.Library library, String... ids) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String id : ids) {
            m.put(id, describe(zoo.find(id), library));
        }
        return json(m);
    }

    private static Map<String, Object> describe(ModelInfo info, Counterpart.Library library) {
        Counterpart c = info.counterpart(library)
                .orElseThrow(() -> new AssertionError(info.id() + " names no " + library.key() + " counterpart"));
        return c.describe(info.inputShape());
    }

    private static String json(Object value) {
        try {
            return new ObjectMapper().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
