package dev.cnnzoo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every subcommand answers -h and --help with its usage and exit 0. */
class HelpTest {
    @Test
    void everySubcommandAnswersHelpWithItsUsage() {
        Map<String, CommandLine> subcommands = Zoo.commandLine().getSubcommands();
        assertTrue(subcommands.size() >= 10, "the verbs and help: " + subcommands.keySet());
        for (String name : subcommands.keySet()) {
            for (String flag : new String[] {"-h", "--help"}) {
                ZooCommandTest.Result r = ZooCommandTest.zoo(name, flag);
                assertEquals(0, r.exit(), name + " " + flag + ": " + r.err());
                assertTrue(r.out().contains("Usage: zoo " + name + " "), name + " " + flag + ": " + r.out());
                assertEquals("", r.err(), name + " " + flag);
            }
        }
    }

    @Test
    void theSharedOptionsAreDocumentedOnEveryCommandThatTakesThem() {
        for (String name : new String[] {"run", "predict", "eval", "train", "bench"}) {
            String usage = ZooCommandTest.zoo(name, "-h").out();
            assertTrue(usage.contains("--device=cpu|cuda") && usage.contains("--threads=N"), name + ": " + usage);
            assertTrue(usage.contains("--weights=FILE|pretrained"), name + ": " + usage);
        }
        assertTrue(ZooCommandTest.zoo("export", "-h").out().contains("--weights=FILE|pretrained"));
    }
}
