package dev.cnnzoo.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.runtime.image.ImageFiles;
import dev.cnnzoo.runtime.predict.Predictor;
import dev.cnnzoo.training.data.Datasets;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The catalog pages in headless Chromium (Debian's chromium and chromedriver), driven by Selenium:
 * the catalog lists every model and filters by glob; a model page's try-it box classifies an
 * uploaded image as {@code zoo predict} does. Screenshots go to target/screenshots.
 */
class CatalogPageTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    @TempDir
    static Path dir;
    static ModelServer server;
    static ChromeDriver browser;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM), "Debian's chromium (CI installs it)");
        server = ModelServer.start(List.of(ServeFixture.servedFashionCnn()), ServeFixture.options(), ServeFixture.ZOO,
                BenchFigures.read(CatalogApiTest.BENCH_REPORT));
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--window-size=1400,1000",
                "--user-data-dir=" + Files.createDirectories(dir.resolve("chromium-profile")));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (server != null) {
            server.stop();
        }
    }

    private static WebDriverWait waiting() {
        return new WebDriverWait(browser, Duration.ofSeconds(60));
    }

    private static void screenshot(String name) throws Exception {
        Path shots = Files.createDirectories(Path.of("target", "screenshots"));
        Files.write(shots.resolve(name), browser.getScreenshotAs(OutputType.BYTES));
    }

    /** The ids in the table's rows, read in one script (the table is re-rendered as the filter changes). */
    @SuppressWarnings("unchecked")
    private static List<String> listedIds() {
        return (List<String>) browser.executeScript("return [...document.querySelectorAll('#catalog tbody tr')].map(r => r.dataset.id);");
    }

    @Test
    void theCatalogListsEveryModelAndFiltersByGlob() throws Exception {
        browser.get(server.uri().toString());
        List<String> all = ServeFixture.ZOO.list().stream().map(i -> i.id()).toList();
        waiting().until(d -> listedIds().size() == all.size());
        assertEquals(all, listedIds());
        WebElement fashion = browser.findElement(By.cssSelector("#catalog tbody tr[data-id='fashion-cnn']"));
        assertTrue(fashion.getText().contains("served"), fashion.getText());
        assertTrue(fashion.getText().contains("img/s @1"), "the benchmark report's figures: " + fashion.getText());
        screenshot("catalog.png");

        browser.findElement(By.id("filter")).sendKeys("resnet*");
        List<String> resnets = ServeFixture.ZOO.list("resnet*").stream().map(i -> i.id()).toList();
        waiting().until(d -> listedIds().equals(resnets));

        // Sorting by parameters, largest first after two clicks.
        WebElement parameters = browser.findElement(By.cssSelector("#catalog th[data-key='parameters']"));
        parameters.click();
        parameters.click();
        List<String> bySize = ServeFixture.ZOO.list("resnet*").stream()
                .sorted((a, b) -> Long.compare(ServeFixture.ZOO.summary(b.id()).parameters(), ServeFixture.ZOO.summary(a.id()).parameters()))
                .map(i -> i.id()).collect(Collectors.toList());
        waiting().until(d -> listedIds().equals(bySize));
    }

    @Test
    void theTryItBoxClassifiesAnUploadedImageAsZooPredictDoes() throws Exception {
        assumeTrue(Files.isDirectory(Datasets.DEBIAN_FASHION_MNIST), "Debian's dataset-fashion-mnist");
        Path image = ClassifyTest.fashionImages(Files.createDirectories(dir.resolve("images")), 1).get(0);
        Model model = ServeFixture.fashionCnn();
        List<String> labels = ServeFixture.ZOO.pretrainedInfo(model.id()).orElseThrow().labels();
        ImageFiles.Decoded d = ImageFiles.read(image, 1);
        List<Predictor.Score> expected;
        try (Predictor p = Predictor.open(model, ServeFixture.pretrained(model), labels, RuntimeOptions.cpu(1), 1)) {
            expected = p.predict(List.of(new Predictor.Input("x", d.planes(), d.conversion())), 5).get(0).top();
        }

        browser.get(server.uri().resolve("models/fashion-cnn").toString());
        waiting().until(d2 -> !browser.findElements(By.cssSelector("#layers tbody tr")).isEmpty());
        String info = browser.findElement(By.id("info")).getText();
        assertTrue(info.contains("Fashion") || info.contains("family"), info);
        browser.findElement(By.id("image")).sendKeys(new File(image.toString()).getAbsolutePath());
        browser.findElement(By.id("classify")).click();
        waiting().until(d2 -> browser.findElements(By.cssSelector("#top li")).size() == 5);
        List<WebElement> items = browser.findElements(By.cssSelector("#top li"));
        for (int k = 0; k < 5; k++) {
            assertEquals(Integer.toString(expected.get(k).index()), items.get(k).getAttribute("data-index"), "rank " + (k + 1));
            assertEquals(expected.get(k).label(), items.get(k).findElement(By.className("label")).getText());
        }
        String shown = items.get(0).findElement(By.className("probability")).getText();
        assertEquals(String.format(java.util.Locale.ROOT, "%.2f%%", 100 * expected.get(0).probability()), shown);
        screenshot("model-page.png");
    }
}
