package dev.cnnzoo.runtime.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cnnzoo.api.ZooException;
import java.util.List;
import org.junit.jupiter.api.Test;

class IsolationTest {
    /** The measured side: prints its process id and heap limit, and exits with the status it is given. */
    public static final class Child {
        public static void main(String[] args) {
            System.out.println(ProcessHandle.current().pid() + " " + Runtime.getRuntime().maxMemory());
            System.exit(Integer.parseInt(args[0]));
        }
    }

    @Test
    void aMeasurementRunsInAFreshJvmWithThisOnesOptions() {
        String[] out = Isolation.run(Child.class.getName(), List.of("0"), "the child").strip().split(" ");
        assertNotEquals(ProcessHandle.current().pid(), Long.parseLong(out[0]), "another process");
        assertEquals(Runtime.getRuntime().maxMemory(), Long.parseLong(out[1]), "started with this JVM's options (its -Xmx)");
        assertEquals("measuring the child in its own process failed (exit 3)",
                assertThrows(ZooException.class, () -> Isolation.run(Child.class.getName(), List.of("3"), "the child")).getMessage());
    }
}
