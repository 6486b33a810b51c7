package dev.cnnzoo.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A plugin as a user writes one, built into its own jar while the test runs (compiled against
 * zoo-api alone, registered in {@code META-INF/services}) and seen through a class loader of its
 * own: {@link ModelZoo#load(ClassLoader)} finds its models, builds them, and the zoo of the test's
 * own class path does not see them.
 */
class PluginJarTest {
    private static final String PROVIDER = """
            package org.example.zooplugin;

            import dev.cnnzoo.api.Counterpart;
            import dev.cnnzoo.api.ModelEntry;
            import dev.cnnzoo.api.ModelInfo;
            import dev.cnnzoo.api.ModelProvider;
            import dev.cnnzoo.api.Paper;
            import dev.cnnzoo.api.Preprocessing;
            import dev.cnnzoo.graph.Graph;
            import dev.cnnzoo.nn.Conv;
            import dev.cnnzoo.nn.Net;
            import java.util.List;

            public final class TinyProvider implements ModelProvider {
                private static final Paper PAPER = Paper.arxiv("E. Xample", "Tiny networks", 2025, "nowhere", "2501.00000");

                @Override
                public List<ModelEntry> models() {
                    return List.of(tiny("tiny-a", 4), tiny("tiny-b", 12));
                }

                private static ModelEntry tiny(String id, int maps) {
                    return ModelEntry.of(ModelInfo.builder(id).family("tiny").description("a convolution of " + maps + " maps")
                            .paper(PAPER).input(1, 8, 8).classes(3).preprocessing(Preprocessing.grey(8, 0.5f, 0.5f))
                            .counterpart(Counterpart.timm("tiny_" + maps)).build(),
                            (info, config) -> build(info.id(), maps, config.classes()));
                }

                private static Graph build(String id, int maps, int classes) {
                    Net net = new Net(id);
                    var x = net.relu(net.conv("conv", net.input(1, 8, 8), Conv.of(maps, 3)));
                    net.output("logits", net.dense("fc", net.flatten(net.globalAvgPool(x)), classes));
                    return net.build();
                }
            }
            """;

    @TempDir
    static Path dir;
    private static Path jar;

    @BeforeAll
    static void buildThePluginJar() throws IOException {
        Path sources = Files.createDirectories(dir.resolve("src/org/example/zooplugin"));
        Path source = Files.writeString(sources.resolve("TinyProvider.java"), PROVIDER);
        Path classes = Files.createDirectories(dir.resolve("classes"));
        ToolProvider javac = ToolProvider.findFirst("javac").orElseThrow(() -> new AssertionError("the tests need a JDK's javac"));
        String zooApi = Path.of(classPathEntry(ModelProvider.class)).toString();
        java.io.StringWriter messages = new java.io.StringWriter();
        java.io.PrintWriter printer = new java.io.PrintWriter(messages);
        int status = javac.run(printer, printer, "-classpath", zooApi, "-d", classes.toString(), source.toString());
        assertEquals(0, status, "the plugin compiles against zoo-api alone:\n" + messages);

        jar = dir.resolve("tiny-zoo.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            add(out, "META-INF/services/dev.cnnzoo.api.ModelProvider", "org.example.zooplugin.TinyProvider\n".getBytes(StandardCharsets.UTF_8));
            try (var files = Files.walk(classes)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    add(out, classes.relativize(f).toString().replace('\\', '/'), Files.readAllBytes(f));
                }
            }
        }
    }

    private static java.net.URI classPathEntry(Class<?> c) {
        try {
            return c.getProtectionDomain().getCodeSource().getLocation().toURI();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void add(JarOutputStream out, String name, byte[] bytes) throws IOException {
        out.putNextEntry(new JarEntry(name));
        OutputStream o = out;
        o.write(bytes);
        out.closeEntry();
    }

    @Test
    void aPluginJarOnItsOwnClassLoaderAddsItsModels() throws IOException {
        try (URLClassLoader plugin = new URLClassLoader(new URL[] {jar.toUri().toURL()}, ModelZoo.class.getClassLoader())) {
            ModelZoo zoo = ModelZoo.load(plugin);
            assertEquals(List.of("tiny-a", "tiny-b"), zoo.family("tiny").stream().map(ModelInfo::id).toList());
            assertEquals("tiny_12", zoo.find("tiny-b").counterpart(Counterpart.Library.TIMM).orElseThrow().name());
            Model b = zoo.build("tiny-b", ModelConfig.builder().classes(5).build());
            assertEquals(12, b.graph().parameters().get("conv.weight").shape().dims()[0], "tiny-b builds with its own entry");
            assertEquals("N×5", b.graph().mainOutput().shape().toString());
            assertTrue(zoo.contains("toy-cnn"), "the parent loader's providers stay visible");
        }
        assertFalse(ModelZoo.load(ModelZoo.class.getClassLoader()).contains("tiny-a"), "without the jar, no tiny models");
    }
}
