package dev.cnnzoo.testkit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * A check against an independent implementation run by Debian's python3 (the onnx checker,
 * PyTorch, torchvision). Enabled by the {@code conformance} Maven profile, which CI turns on.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("conformance")
public @interface Conformance {
}
