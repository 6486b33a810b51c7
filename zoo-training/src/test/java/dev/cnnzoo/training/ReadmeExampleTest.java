package dev.cnnzoo.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "Using the library from Java" block compiles and runs as written: on the class path,
 * and as a named module that requires dev.cnnzoo.training on the module path (which proves the
 * module descriptors export what an application needs).
 */
class ReadmeExampleTest {
    private static final String SECTION = "## Using the library from Java";

    @TempDir
    Path dir;

    /** The section's java block and the imports its text names ("`dev.cnnzoo.api.*`, ..."). */
    private record Example(String code, List<String> imports) {
    }

    private static Example example() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        int at = readme.indexOf(SECTION);
        assertTrue(at >= 0, "README.md has the section " + SECTION);
        String section = readme.substring(at + SECTION.length());
        int next = section.indexOf("\n## ");
        section = next < 0 ? section : section.substring(0, next);
        int open = section.indexOf("```java\n");
        int close = section.indexOf("\n```", open + 8);
        assertTrue(open >= 0 && close > open, "the section holds a java block");
        List<String> imports = new ArrayList<>();
        Matcher m = Pattern.compile("`((?:[a-z]+\\.)+\\*)`").matcher(section.substring(0, open));
        while (m.find()) {
            imports.add(m.group(1));
        }
        assertTrue(imports.contains("dev.cnnzoo.training.run.*"), "the text names the imports: " + imports);
        return new Example(section.substring(open + 8, close + 1), imports);
    }

    private static String source(Example e, String pkg) {
        return "package " + pkg + ";\n" + e.imports().stream().map(i -> "import " + i + ";\n").collect(Collectors.joining())
                + "public class Main {\n    public static void main(String[] args) throws Exception {\n" + e.code() + "    }\n}\n";
    }

    private static void compile(List<String> options, Path... files) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> args = new ArrayList<>(options);
        for (Path f : files) {
            args.add(f.toString());
        }
        int status = javac.run(null, null, err, args.toArray(String[]::new));
        assertEquals(0, status, "javac: " + err.toString(StandardCharsets.UTF_8));
    }

    /** What the block prints: the step it trained and the shipped weights it resolved. */
    private static void assertRan(String out) {
        assertTrue(out.matches("(?s)1 step; logits of the first image \\[[-0-9.E]+, [-0-9.E]+\\]\\R"
                + "fashion-cnn's shipped weights: \\d+ tensors\\R"), out);
    }

    @Test
    void theExampleCompilesAndRunsOnTheClassPath() throws Exception {
        Example e = example();
        Path src = Files.createDirectories(dir.resolve("src/readme"));
        Files.writeString(src.resolve("Main.java"), source(e, "readme"));
        Path classes = Files.createDirectories(dir.resolve("classes"));
        compile(List.of("-classpath", System.getProperty("java.class.path"), "-d", classes.toString()), src.resolve("Main.java"));

        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader())) {
            Method main = loader.loadClass("readme.Main").getMethod("main", String[].class);
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            main.invoke(null, (Object) new String[0]);
        } finally {
            System.setOut(stdout);
        }
        assertRan(captured.toString(StandardCharsets.UTF_8));
    }

    /**
     * The module path: the zoo's modules (their class folders hold module-info.class) and the jars
     * they need, ONNX Runtime, tribuo and xchart among them as automatic modules; no test libraries.
     */
    private static String modulePath() {
        List<String> keep = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry);
            String name = p.getFileName().toString();
            boolean module = Files.isDirectory(p) ? Files.exists(p.resolve("module-info.class"))
                    : name.endsWith(".jar") && !name.endsWith("-tests.jar")
                            && !name.matches("(junit|opentest4j|apiguardian|surefire|common-java5|common-junit|zoo-testkit).*");
            if (module) {
                keep.add(entry);
            }
        }
        return String.join(File.pathSeparator, keep);
    }

    @Test
    void theExampleRunsAsANamedModuleOnTheModulePath() throws Exception {
        Example e = example();
        Path src = Files.createDirectories(dir.resolve("src"));
        Files.writeString(src.resolve("module-info.java"), "module example.readme {\n    requires dev.cnnzoo.training;\n}\n");
        Path pkg = Files.createDirectories(src.resolve("example/readme"));
        Files.writeString(pkg.resolve("Main.java"), source(e, "example.readme"));
        Path classes = Files.createDirectories(dir.resolve("mods/example.readme"));
        String modulePath = modulePath();
        compile(List.of("--module-path", modulePath, "-d", classes.toString()), src.resolve("module-info.java"), pkg.resolve("Main.java"));

        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                "--module-path", modulePath + File.pathSeparator + classes, "-m", "example.readme/example.readme.Main");
        Process p = new ProcessBuilder(cmd).redirectError(dir.resolve("err.log").toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the module application finishes");
        assertEquals(0, p.exitValue(), Files.readString(dir.resolve("err.log")));
        assertRan(out);
    }
}
