package dev.cnnzoo.cli;

import static dev.cnnzoo.cli.ZooCommandTest.zoo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelProvider;
import dev.cnnzoo.api.ModelZoo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.TreeSet;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The families reach the command through zoo-models alone, and `zoo list --json` / `zoo info --json`
 * carry what the Python tools read.
 */
class ModelFamiliesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** zoo-models/pom.xml's family modules and dependencies (the two lines a family takes there). */
    private static List<List<String>> aggregate() throws Exception {
        Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(Path.of("..", "zoo-models", "pom.xml").toFile());
        List<String> modules = new ArrayList<>();
        NodeList m = pom.getElementsByTagName("module");
        for (int i = 0; i < m.getLength(); i++) {
            modules.add(Path.of(m.item(i).getTextContent().trim()).getFileName().toString());
        }
        List<String> dependencies = new ArrayList<>();
        NodeList d = pom.getElementsByTagName("dependency");
        for (int i = 0; i < d.getLength(); i++) {
            dependencies.add(((Element) d.item(i)).getElementsByTagName("artifactId").item(0).getTextContent().trim());
        }
        return List.of(modules, dependencies);
    }

    @Test
    void everyFamilyTheAggregateBuildsIsOnTheCommandsClassPath() throws Exception {
        List<List<String>> aggregate = aggregate();
        List<String> modules = aggregate.get(0);
        assertFalse(modules.isEmpty());
        assertEquals(new TreeSet<>(modules), new TreeSet<>(aggregate.get(1)), "zoo-models builds and depends on the same families");
        List<String> locations = ServiceLoader.load(ModelProvider.class).stream()
                .map(p -> p.type().getProtectionDomain().getCodeSource().getLocation().getPath()).toList();
        for (String family : modules) {
            assertTrue(locations.stream().anyMatch(l -> l.contains("/" + family + "/") || l.contains("/" + family + "-")),
                    family + "'s provider is not on zoo-cli's class path: " + locations);
        }
        assertEquals(modules.size(), locations.size(), "one provider per family: " + locations);
    }

    @Test
    void listJsonHasEveryModelWithItsCountsAndCounterparts() throws Exception {
        ZooCommandTest.Result r = zoo("list", "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode all = JSON.readTree(r.out());
        ModelZoo models = ModelZoo.load();
        assertEquals(models.list().stream().map(ModelInfo::id).toList(), all.findValuesAsText("id"));
        JsonNode lenet5 = all.get(models.list().stream().map(ModelInfo::id).toList().indexOf("lenet5"));
        assertEquals(60_000, lenet5.get("parameters").asLong());
        assertEquals("[1,28,28]", lenet5.get("input").toString());
        assertEquals(0, lenet5.get("counterparts").size(), "no library has LeNet-5 as the zoo writes it");

        ZooCommandTest.Result vgg = zoo("list", "vgg1?-bn", "--json");
        assertEquals(List.of("vgg11-bn", "vgg13-bn", "vgg16-bn", "vgg19-bn"), JSON.readTree(vgg.out()).findValuesAsText("id"));
    }

    @Test
    void infoJsonNamesTheCounterpartsTheToolsBuild() throws Exception {
        ZooCommandTest.Result r = zoo("info", "googlenet-bn", "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode info = JSON.readTree(r.out());
        assertEquals("googlenet-bn", info.get("id").asText());
        assertEquals(6_624_904, info.get("parameters").asLong(), "the deployed network's count, as zoo list gives it");
        JsonNode tv = info.get("counterparts").get("torchvision");
        assertEquals("googlenet", tv.get("name").asText());
        assertEquals("{\"aux_logits\":true,\"transform_input\":false,\"init_weights\":true}", tv.get("kwargs").toString());
        assertEquals("[3,224,224]", tv.get("input").toString());
        assertEquals("[0.5,0.5,0.5]", info.get("preprocessing").get("mean").toString());
        assertTrue(info.get("auxiliary").asBoolean());

        JsonNode resnet50 = JSON.readTree(zoo("info", "resnet50", "--json").out());
        assertEquals("resnet50", resnet50.get("counterparts").get("torchvision").get("name").asText());
        assertEquals(25_557_032, resnet50.get("parameters").asLong());
        assertTrue(resnet50.get("options").has("stride-in"));
        assertEquals("Xception", JSON.readTree(zoo("info", "xception", "--json").out()).get("counterparts").get("keras").get("name").asText());
    }
}
