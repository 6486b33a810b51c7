/** LeNet-5 and the Fashion-MNIST network of Géron's Hands-On Machine Learning (2nd ed., ch. 14). */
module dev.cnnzoo.lenet {
    requires dev.cnnzoo.api;

    // The shipped weights, read through dev.cnnzoo.api's PretrainedWeights.resource.
    opens dev.cnnzoo.lenet.pretrained to dev.cnnzoo.api;

    provides dev.cnnzoo.api.ModelProvider with dev.cnnzoo.lenet.LeNetProvider;
}
