/** ResNet, pre-activation ResNet and SE-ResNet. */
module dev.cnnzoo.resnet {
    requires dev.cnnzoo.api;

    provides dev.cnnzoo.api.ModelProvider with dev.cnnzoo.resnet.ResNetProvider;
}
