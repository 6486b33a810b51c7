package dev.cnnzoo.cli;

import static dev.cnnzoo.cli.ZooCommandTest.zoo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.serve.BenchFigures;
import dev.cnnzoo.serve.ModelServer;
import dev.cnnzoo.serve.ServeOptions;
import dev.cnnzoo.serve.ServedModel;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServeCommandTest {
    @Test
    void badArgumentsAreOneLineAndExitTwo() {
        ZooCommandTest.Result unknown = zoo("serve", "resnet5", "--port", "0");
        assertEquals(2, unknown.exit());
        assertTrue(unknown.err().contains("unknown model 'resnet5'") && unknown.err().lines().count() == 1, unknown.err());
        ZooCommandTest.Result load = zoo("serve", "lenet5", "--load", "sometimes", "--port", "0");
        assertEquals(2, load.exit());
        assertTrue(load.err().contains("--load must be eager or lazy"), load.err());
        ZooCommandTest.Result bench = zoo("serve", "lenet5", "--bench", "pom.xml", "--port", "0");
        assertEquals(2, bench.exit());
        assertTrue(bench.err().contains("pom.xml"), bench.err());
        ZooCommandTest.Result weights = zoo("serve", "lenet5", "--weights", "vgg16=pretrained", "--port", "0");
        assertEquals(2, weights.exit());
        assertTrue(weights.err().contains("--weights names vgg16"), weights.err());
    }

    @Test
    void serveBenchLoadsARunningServerAndReportsLatencyAndBatches() {
        ModelZoo zoo = ModelZoo.load();
        Model m = zoo.build("lenet5");
        ServedModel lenet = ServedModel.zoo(m, zoo.pretrained("lenet5").bind(m.graph()), null, "pretrained weights");
        try (ModelServer server = ModelServer.start(List.of(lenet), ServeOptions.defaults().port(0).runtime(RuntimeOptions.cpu(1)), zoo,
                BenchFigures.none())) {
            ZooCommandTest.Result r = zoo("serve-bench", "lenet5", "--url", server.uri().toString(), "--clients", "4", "--requests", "10");
            assertEquals(0, r.exit(), r.err());
            assertTrue(r.out().contains("statuses {200=40}"), r.out());
            assertTrue(r.out().contains("latency ms: p50"), r.out());
            assertTrue(r.out().contains("# cpu flags:"), r.out());
            assertTrue(r.out().matches("(?s).*server: \\d+ batches.*"), r.out());
        }
    }
}
