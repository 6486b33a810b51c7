package dev.cnnzoo.resnet;

import dev.cnnzoo.api.Counterpart;
import dev.cnnzoo.api.InvalidConfigException;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelEntry;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelProvider;
import dev.cnnzoo.api.Paper;
import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.api.ReportedError;
import dev.cnnzoo.blocks.ResidualUnit;
import dev.cnnzoo.blocks.Shortcut;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.resnet.ResNet.Plan;
import java.util.ArrayList;
import java.util.List;

/**
 * The ResNet family: ResNet (He et al. 2015) at 18 to 152 layers, pre-activation ResNet (He et al.
 * 2016) at 18 to 200 layers for ImageNet and 110, 164, 1001 for CIFAR, and SE-ResNet (Hu et al.
 * 2017) at 50 and 101.
 */
public final class ResNetProvider implements ModelProvider {
    static final String FAMILY = "resnet";

    /** Where a bottleneck unit downsamples: {@value #STRIDE_3X3} or {@value #STRIDE_1X1}. */
    public static final String STRIDE_IN = "stride-in";
    public static final String STRIDE_3X3 = "3x3";
    public static final String STRIDE_1X1 = "1x1";
    /** Start every unit as its shortcut: the last batch-norm scale (pre-activation: the last convolution) at zero. */
    public static final String ZERO_INIT_LAST = "zero-init-last";

    static final Paper HE_2015 = Paper.arxiv("K. He, X. Zhang, S. Ren, J. Sun",
            "Deep residual learning for image recognition", 2015, "CVPR 2016", "1512.03385");
    static final Paper HE_2016 = Paper.arxiv("K. He, X. Zhang, S. Ren, J. Sun",
            "Identity mappings in deep residual networks", 2016, "ECCV 2016", "1603.05027");
    static final Paper HU_2017 = Paper.arxiv("J. Hu, L. Shen, S. Albanie, G. Sun, E. Wu",
            "Squeeze-and-excitation networks", 2017, "CVPR 2018", "1709.01507");

    /** The CIFAR-10 training set's per-channel statistics on [0, 1] (fb.resnet.torch's normalisation). */
    static final Preprocessing CIFAR = new Preprocessing(32, 32, new float[] {0.4914f, 0.4824f, 0.4467f},
            new float[] {0.2471f, 0.2435f, 0.2616f}, "bilinear");

    /** Squeeze-and-excitation reduction ratio r = 16 (Hu et al. 2017, §6.1: the best accuracy/complexity trade-off). */
    static final int SE_RATIO = 16;

    private final List<ModelEntry> models = new ArrayList<>();

    public ResNetProvider() {
        // He et al. 2015, Table 2 (ResNet-18, top-1 only) and Table 3 (10-crop, option B shortcuts).
        resnet(18, new ReportedError(27.88, null, "ILSVRC-2012 val, 10-crop; He et al. 2015, Table 2"));
        resnet(34, table3(24.52, 7.46));
        resnet(50, table3(22.85, 6.71));
        resnet(101, table3(21.75, 6.05));
        resnet(152, table3(21.43, 5.71));

        for (int depth : new int[] {18, 34, 50, 101, 152, 200}) {
            // He et al. 2016, Table 5: single 320×320 crop, trained with scale and aspect-ratio augmentation.
            ReportedError e = switch (depth) {
                case 152 -> new ReportedError(21.1, 5.5, "ILSVRC-2012 val, single 320×320 crop; He et al. 2016, Table 5");
                case 200 -> new ReportedError(20.7, 5.3, "ILSVRC-2012 val, single 320×320 crop; He et al. 2016, Table 5");
                default -> null;
            };
            preActImagenet(depth, e);
        }
        preActCifar(110, false, new ReportedError(6.37, null, "CIFAR-10 test error; He et al. 2016, Table 2"));
        preActCifar(164, true, new ReportedError(5.46, null, "CIFAR-10 test error; He et al. 2016, Table 4"));
        preActCifar(1001, true, new ReportedError(4.62, null, "CIFAR-10 test error, mean of 5 runs; He et al. 2016, abstract"));

        // Hu et al. 2017, Table 2: single 224×224 crop.
        seResnet(50, new ReportedError(23.29, 6.62, "ILSVRC-2012 val, single crop; Hu et al. 2017, Table 2"));
        seResnet(101, new ReportedError(22.38, 6.07, "ILSVRC-2012 val, single crop; Hu et al. 2017, Table 2"));
    }

    private static ReportedError table3(double top1, double top5) {
        return new ReportedError(top1, top5, "ILSVRC-2012 val, 10-crop; He et al. 2015, Table 3");
    }

    private void resnet(int depth, ReportedError reported) {
        Plan plan = Plan.imagenet(depth);
        add(depth, imagenet("resnet" + depth, plan)
                .description("ResNet-" + depth + ": 7×7/2 stem, " + stages(plan) + ", global average pooling, dense output")
                .paper(HE_2015).reported(reported)
                .counterpart(Counterpart.torchvision("resnet" + depth)), plan);
    }

    private void preActImagenet(int depth, ReportedError reported) {
        Plan plan = Plan.imagenet(depth).withUnit(ResidualUnit::preActivation);
        add(depth, imagenet("preact-resnet" + depth, plan)
                .description("Pre-activation ResNet-" + depth + ": BN → ReLU before every convolution, identity shortcuts, "
                        + stages(plan))
                .paper(HE_2016).reported(reported), plan);
    }

    /** The CIFAR networks: basic units with zero-padded shortcuts as in He et al. 2015 §4.2, or bottlenecks with projections. */
    private void preActCifar(int depth, boolean bottleneck, ReportedError reported) {
        Plan plan = Plan.cifar(depth, bottleneck).withUnit(u -> {
            u = u.preActivation();
            return bottleneck ? u : u.shortcut(Shortcut.Kind.ZERO_PADDED);
        });
        ModelInfo.Builder info = ModelInfo.builder("preact-resnet" + depth).family(FAMILY)
                .description("Pre-activation ResNet-" + depth + " for 32×32 CIFAR images: 3×3 stem, " + stages(plan)
                        + (bottleneck ? "" : ", zero-padded shortcuts"))
                .paper(HE_2016).input(3, 32, 32).classes(10).preprocessing(CIFAR).reported(reported);
        options(info, plan, true);
        add(depth, info, plan);
    }

    /** SE-ResNets, named as timm's (its {@code seresnet50}'s state dict loads by name). */
    private void seResnet(int depth, ReportedError reported) {
        Plan plan = Plan.imagenet(depth).withUnit(u -> u.squeezeExcitation(SE_RATIO));
        add(depth, imagenet("se-resnet" + depth, plan)
                .description("SE-ResNet-" + depth + ": ResNet-" + depth + " with a squeeze-and-excitation block (r = 16) in every unit, "
                        + stages(plan))
                .paper(HU_2017).reported(reported)
                .counterpart(Counterpart.timm("seresnet" + depth)), plan);
    }

    /** An ImageNet network: 224×224 crops of 256, 1000 classes, and the options of its plan. */
    private static ModelInfo.Builder imagenet(String id, Plan plan) {
        ModelInfo.Builder info = ModelInfo.builder(id).family(FAMILY).input(3, 224, 224).classes(1000)
                .preprocessing(Preprocessing.imagenet(256, 224));
        options(info, plan, false);
        return info;
    }

    /** Adds an id, checking that its plan has the depth its name promises. */
    private void add(int depth, ModelInfo.Builder info, Plan plan) {
        ModelInfo built = info.build();
        if (plan.depth() != depth) {
            throw new IllegalStateException(built.id() + " has " + plan.depth() + " weight layers, not " + depth);
        }
        models.add(ModelEntry.of(built, (i, config) -> build(i, plan, config)));
    }

    /** "[3, 4, 6, 3] bottleneck units of 256, 512, 1024, 2048 maps". */
    private static String stages(Plan plan) {
        List<String> maps = new ArrayList<>();
        for (int w : plan.widths()) {
            maps.add(Integer.toString(plan.unit().outputMaps(w)));
        }
        return java.util.Arrays.toString(plan.units()) + (plan.unit().isBottleneck() ? " bottleneck" : " basic")
                + " units of " + String.join(", ", maps) + " maps";
    }

    /**
     * The options every id takes, and for bottleneck networks where they downsample. The default is
     * the form whose trained weights exist: 3×3 for the ImageNet networks (torchvision's and timm's
     * ResNets and SE-ResNets; fb.resnet.torch's and timm's pre-activation ones), where the paper's
     * 1×1 would load those weights without complaint and compute something else; 1×1 for the
     * CIFAR networks, which only the authors' code defines.
     */
    private static void options(ModelInfo.Builder info, Plan plan, boolean cifar) {
        if (plan.unit().isBottleneck()) {
            info.option(STRIDE_IN, "where a bottleneck unit downsamples: 3x3 (torchvision's \"ResNet v1.5\") or 1x1 "
                    + "(the papers' first convolution); default " + defaultStrideIn(cifar));
        }
        info.option(ZERO_INIT_LAST, "true starts each unit as its shortcut: last batch-norm scale "
                + (plan.unit().isPreActivation() ? "(here the last convolution, which no batch norm follows) " : "")
                + "at zero (torchvision's zero_init_residual, timm's zero_init_last); default false");
    }

    private static String defaultStrideIn(boolean cifar) {
        return cifar ? STRIDE_1X1 : STRIDE_3X3;
    }

    @Override
    public List<ModelEntry> models() {
        return List.copyOf(models);
    }

    /** The id's plan with the options the configuration sets. */
    private static Graph build(ModelInfo info, Plan planned, ModelConfig config) {
        boolean zeroInitLast = config.flag(ZERO_INIT_LAST);
        Plan plan = planned.withUnit(u -> u.zeroInitLast(zeroInitLast));
        if (plan.unit().isBottleneck()) {
            String where = config.option(STRIDE_IN, defaultStrideIn(plan.stem() == ResNet.Stem.CIFAR));
            boolean first = switch (where) {
                case STRIDE_1X1 -> true;
                case STRIDE_3X3 -> false;
                default -> throw new InvalidConfigException("option " + STRIDE_IN + " of " + info.id() + " is "
                        + STRIDE_3X3 + " or " + STRIDE_1X1 + ", not '" + where + "'");
            };
            plan = plan.withUnit(u -> u.strideInFirst(first));
        }
        return ResNet.build(info.id(), plan, config);
    }
}
