package dev.cnnzoo.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelInfoTest {
    private static final Paper PAPER = Paper.arxiv("A. Tester, B. Writer", "A test network", 2024, "tests", "0000.00001");

    private static ModelInfo.Builder complete(String id) {
        return ModelInfo.builder(id).family("test").description("a test").paper(PAPER).input(3, 32, 40).classes(7)
                .preprocessing(Preprocessing.imagenet(36, 32));
    }

    @Test
    void namedFieldsReachTheAccessors() {
        ModelInfo info = complete("net").reported(new ReportedError(20.5, null, "somewhere")).auxiliary(true)
                .option("b", "second").option("a", "first").counterpart(Counterpart.timm("net_timm")).build();
        assertEquals("net", info.id());
        assertEquals("test", info.family());
        assertEquals(PAPER, info.paper());
        assertEquals(List.of(3, 32, 40), List.of(info.inputShape()[0], info.inputShape()[1], info.inputShape()[2]));
        assertEquals("3×32×40", info.inputDescription());
        assertEquals(7, info.classes());
        assertEquals(20.5, info.reported().top1());
        assertTrue(info.auxiliary());
        assertEquals(List.of("b", "a"), List.copyOf(info.options().keySet()), "options keep the order they were written in");
        assertEquals("net_timm", info.counterpart(Counterpart.Library.TIMM).orElseThrow().name());
        assertTrue(info.counterpart(Counterpart.Library.TORCHVISION).isEmpty());
        info.inputShape()[0] = 99;
        assertEquals(3, info.inputShape()[0], "the input shape cannot be changed from outside");
    }

    @Test
    void aMissingRequiredFieldIsNamed() {
        assertEquals("model net has no paper", assertThrows(IllegalStateException.class,
                () -> ModelInfo.builder("net").family("test").description("a test").input(3, 8, 8).classes(2)
                        .preprocessing(Preprocessing.imagenet(8, 8)).build()).getMessage());
        assertEquals("model net has no classes", assertThrows(IllegalStateException.class,
                () -> ModelInfo.builder("net").family("test").description("a test").paper(PAPER).input(3, 8, 8)
                        .preprocessing(Preprocessing.imagenet(8, 8)).build()).getMessage());
        assertEquals("model net has no input", assertThrows(IllegalStateException.class,
                () -> ModelInfo.builder("net").family("test").description("a test").paper(PAPER).classes(2)
                        .preprocessing(Preprocessing.imagenet(8, 8)).build()).getMessage());
    }

    @Test
    void anOptionOrALibraryTwiceIsRefused() {
        assertThrows(IllegalStateException.class, () -> complete("net").option("k", "one").option("k", "two"));
        assertThrows(IllegalStateException.class,
                () -> complete("net").counterpart(Counterpart.torchvision("a")).counterpart(Counterpart.torchvision("b")));
        assertThrows(IllegalArgumentException.class, () -> Counterpart.torchvision("a").with("weights", List.of()));
    }

    @Test
    void theDescriptionHasWhatThePythonToolsRead() throws Exception {
        ModelInfo info = complete("googlenet-like")
                .counterpart(Counterpart.torchvision("googlenet").with("aux_logits", true).with("transform_input", false)
                        .with("dropout", 0.2))
                .counterpart(Counterpart.keras("GoogLeNet"))
                .build();
        JsonNode json = new ObjectMapper().readTree(new ObjectMapper().writeValueAsString(info.describe()));
        JsonNode tv = json.get("counterparts").get("torchvision");
        assertEquals("torchvision", tv.get("library").asText());
        assertEquals("googlenet", tv.get("name").asText());
        assertEquals("{\"aux_logits\":true,\"transform_input\":false,\"dropout\":0.2}", tv.get("kwargs").toString(),
                "keyword arguments in the order written, as JSON booleans and numbers");
        assertEquals("[3,32,40]", tv.get("input").toString());
        assertEquals("GoogLeNet", json.get("counterparts").get("keras").get("name").asText());
        assertEquals("[3,32,40]", json.get("input").toString());
        assertEquals(7, json.get("classes").asInt());
        assertEquals("https://arxiv.org/abs/0000.00001", json.get("paper").get("url").asText());
        assertEquals("Tester and Writer 2024, A test network", json.get("paper").get("citation").asText());
        assertEquals(36, json.get("preprocessing").get("resize").asInt());
        assertTrue(!json.has("reported"), "no reported error, no field");
        assertEquals(Map.of(), new ObjectMapper().convertValue(json.get("options"), Map.class));
    }
}
