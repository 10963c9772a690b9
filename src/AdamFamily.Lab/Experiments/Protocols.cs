namespace AdamFamily.Lab.Experiments;

/// <summary>Named, documented experiment presets for <c>afm compare --protocol</c>.</summary>
public static class Protocols
{
    /// <summary>
    /// fmnist-mlp, the CPU-sized reference experiment: Fashion-MNIST, inputs in [0,1] normalised with mean
    /// 0.2860 / std 0.3530, no augmentation; MLP 784-256-256-10 (ReLU); batch 128 reshuffled every epoch;
    /// 10 epochs, lr ×0.1 from epoch 9 on; arms adam (lr 1e-3, weight_decay 5e-4 coupled), adamw (lr 1e-3,
    /// weight_decay 1e-2), adamd (lr 1e-3, weight_decay 5e-4), sgd (lr 0.05, momentum 0.9, weight_decay 5e-4).
    /// </summary>
    public static ExperimentSettings FmnistMlp(string scale = "full") => Scale(new ExperimentSettings
    {
        Protocol = "fmnist-mlp",
        Task = "fashion-mnist",
        Model = "mlp",
        Epochs = 10,
        BatchSize = 128,
        Seeds = new[] { 0, 1, 2 },
        Schedule = new ScheduleSpec("multistep", new[] { 8 }, 0.1),
        Arms = new[]
        {
            new ArmSpec("adam", "adam:lr=1e-3,weight_decay=5e-4"),
            new ArmSpec("adamw", "adamw:lr=1e-3,weight_decay=1e-2"),
            new ArmSpec("adamd", "adamd:lr=1e-3,weight_decay=5e-4"),
            new ArmSpec("sgd", "sgd:lr=0.05,momentum=0.9,weight_decay=5e-4"),
        },
        Baseline = "adam",
    }, scale, s => s with
    {
        Epochs = 6,
        TrainSubset = 30000,
        Schedule = s.Schedule.Kind == "multistep" ? s.Schedule with { Milestones = new[] { 4 } } : s.Schedule,
    });

    /// <summary>
    /// The CIFAR protocol of the Adam-family literature the paper compares in (ResNet-34 and others, lr ×0.1 once late
    /// in training): the settings of the AdaBelief experiments, PyTorch_Experiments/classification_cifar10/main.py of
    /// juntang-zhuang/Adabelief-Optimizer (also AdaBound's): 200 epochs, batch 128, the lr multiplied
    /// by 0.1 after 150 epochs (that code decays before the 0-based epoch 150: milestone 150, i.e. from epoch 151 on),
    /// random crop with 4-pixel padding + horizontal flip, per-channel normalisation; arms adam (lr 1e-3,
    /// weight_decay 5e-4 coupled), adamw (lr 1e-3, weight_decay 1e-2), adamd (lr 1e-3, weight_decay 5e-4), sgd (lr 0.1,
    /// momentum 0.9, weight_decay 5e-4). Needs --data (the CIFAR binary folder).
    /// quick: the first <paramref name="quickTrain"/> / <paramref name="quickTest"/> images, <paramref name="quickEpochs"/>
    /// epochs, sized from this model's speed on 2 CPU cores.
    /// </summary>
    private static ExperimentSettings Cifar(string name, string task, string model, string scale, int quickTrain, int quickTest, int quickEpochs) => Scale(new ExperimentSettings
    {
        Protocol = name,
        Task = task,
        Model = model,
        Epochs = 200,
        BatchSize = 128,
        Seeds = new[] { 0, 1, 2 },
        Augment = true,
        CropPadding = 4,
        Schedule = new ScheduleSpec("multistep", new[] { 150 }, 0.1),
        Arms = new[]
        {
            new ArmSpec("adam", "adam:lr=1e-3,weight_decay=5e-4"),
            new ArmSpec("adamw", "adamw:lr=1e-3,weight_decay=1e-2"),
            new ArmSpec("adamd", "adamd:lr=1e-3,weight_decay=5e-4"),
            new ArmSpec("sgd", "sgd:lr=0.1,momentum=0.9,weight_decay=5e-4"),
        },
        Baseline = "adam",
    }, scale, s => Quick(s, quickEpochs, quickTrain, quickTest));

    /// <summary>
    /// fmnist-resnet18: Fashion-MNIST (normalised as in fmnist-mlp), CIFAR-style ResNet-18 with 1 input channel, random
    /// crop with 2-pixel padding + horizontal flip, batch 128, 15 epochs, lr ×0.1 from epoch 12 on (milestone 11); the
    /// four arms of fmnist-mlp. quick: 512 training images, the first 1000 test images, 3 epochs (×0.1 in the last).
    /// </summary>
    public static ExperimentSettings FmnistResNet18(string scale = "full") => Scale(FmnistMlp("full") with
    {
        Protocol = "fmnist-resnet18",
        Model = "resnet18",
        Epochs = 15,
        Augment = true,
        CropPadding = 2,
        Schedule = new ScheduleSpec("multistep", new[] { 11 }, 0.1),
    }, scale, s => Quick(s, epochs: 3, train: 512, test: 1000));

    /// <summary>
    /// fmnist-cnn-bn, where the placement of weight decay is expected to matter: Fashion-MNIST (normalised as in
    /// fmnist-mlp), the "cnn-bn" model (two blocks conv3×3 16 / 32 without bias → BatchNorm2d → ReLU → maxpool2, then
    /// Linear; decay on the scale-invariant convolution weights acts through the effective learning rate), random crop
    /// with 2-pixel padding + horizontal flip, batch 128, every parameter decayed. Sized so the tuned study (5 arms ×
    /// (10 trials + 8 seeds)) fits about an hour on 2 shared CPU cores (one intra-op thread, OMP_NUM_THREADS=1): the
    /// first 10 000 training images, the last 4 000 of the training set for validation, the first 4 000 test images,
    /// 4 epochs, lr ×0.1 in the last (milestone 3).
    /// Arms adam (lr 1e-3, weight_decay 5e-4 coupled), adamw (lr 1e-3, weight_decay 1e-2), adamd (lr 1e-3, weight_decay
    /// 5e-4), adamd-decoupled (AdamD's estimator settings — ε 1e-8 inside the root — with AdamW's placement,
    /// decay=decoupled, weight_decay 1e-2), sgd (lr 0.1, momentum 0.9, weight_decay 5e-4, as the CIFAR protocols).
    /// quick: 1 000 / 500 / 500 images, 2 epochs (×0.1 in the last).
    /// </summary>
    public static ExperimentSettings FmnistCnnBn(string scale = "full") => Scale(new ExperimentSettings
    {
        Protocol = "fmnist-cnn-bn",
        Task = "fashion-mnist",
        Model = "cnn-bn",
        Epochs = 4,
        BatchSize = 128,
        Seeds = new[] { 0, 1, 2 },
        Augment = true,
        CropPadding = 2,
        TrainSubset = 10000,
        Validation = 4000,
        TestSubset = 4000,
        Schedule = new ScheduleSpec("multistep", new[] { 3 }, 0.1),
        Arms = new[]
        {
            new ArmSpec("adam", "adam:lr=1e-3,weight_decay=5e-4"),
            new ArmSpec("adamw", "adamw:lr=1e-3,weight_decay=1e-2"),
            new ArmSpec("adamd", "adamd:lr=1e-3,weight_decay=5e-4"),
            new ArmSpec("adamd-decoupled", "adamd:lr=1e-3,weight_decay=1e-2,decay=decoupled"),
            new ArmSpec("sgd", "sgd:lr=0.1,momentum=0.9,weight_decay=5e-4"),
        },
        Baseline = "adam",
    }, scale, s => Quick(s, epochs: 2, train: 1000, test: 500));

    /// <summary>
    /// The paper's Penn Treebank protocol (the AdaBelief LSTM experiments, PyTorch_Experiments/LSTM/run_all_layer{1,2,3}.py
    /// and main.py of juntang-zhuang/Adabelief-Optimizer, themselves the AWD-LSTM code): batch 20, 200 epochs, lr ÷10
    /// after epochs 100 and 145 (milestones 100 and 145: from epochs 101 and 146 on), gradient clipping 0.25,
    /// weight_decay 1.2e-6 for every arm, lr 1e-3 for 1 layer and 1e-2 for 2 and 3 layers; arms adam, adamw, adamd; for
    /// 1 layer adam and adamw with eps 1e-12 as in run_all_layer1.py. The embedding and the biases are not decayed
    /// (<see cref="Models.LstmLanguageModel.DecayGroups"/>), unlike AWD-LSTM, which decays every parameter.
    /// Model: a plain LSTM (<see cref="Models.LstmLanguageModel"/>) with AWD-LSTM's widths where one nn.LSTM can hold
    /// them: 1 layer 400/400 tied; 2 and 3 layers embedding 400, hidden 1150, untied (AWD narrows its last layer to
    /// 400 to tie; nn.LSTM layers share one width); dropout 0.4; bptt 70 (fixed, not AWD's random lengths); no
    /// weight drop, embedding dropout or activation regularisation. Needs --data (the PTB folder).
    /// quick: the first 40 000 training and 10 000 validation / test tokens, 4 epochs (÷10 from epochs 3 and 4),
    /// embedding and hidden 128 (tied for 1 layer), dropout 0.2, bptt 35.
    /// </summary>
    private static ExperimentSettings Ptb(int layers, string scale)
    {
        string lr = layers == 1 ? "1e-3" : "1e-2";
        // The reference 1-layer runs (run_all_layer1.py) give Adam and AdamW ε = 1e-12 (PyTorch's ε, outside the root).
        // AdamD keeps its own default: its ε sits inside the root, where 1e-8 plays the role of 1e-4 outside.
        string eps = layers == 1 ? ",eps=1e-12" : "";
        return Scale(new ExperimentSettings
        {
            Protocol = $"ptb-lstm-{layers}layer",
            Task = "ptb",
            Model = "lstm",
            Epochs = 200,
            BatchSize = 20,
            Seeds = new[] { 0, 1, 2 },
            ClipGradNorm = 0.25,
            Schedule = new ScheduleSpec("multistep", new[] { 100, 145 }, 0.1),
            Lm = layers == 1
                ? new LanguageModelSettings { Layers = 1, Embedding = 400, Hidden = 400, TiedWeights = true, Dropout = 0.4, Bptt = 70, EvalBatchSize = 10 }
                : new LanguageModelSettings { Layers = layers, Embedding = 400, Hidden = 1150, TiedWeights = false, Dropout = 0.4, Bptt = 70, EvalBatchSize = 10 },
            Arms = new[]
            {
                new ArmSpec("adam", $"adam:lr={lr},weight_decay=1.2e-6{eps}"),
                new ArmSpec("adamw", $"adamw:lr={lr},weight_decay=1.2e-6{eps}"),
                new ArmSpec("adamd", $"adamd:lr={lr},weight_decay=1.2e-6"),
            },
            Baseline = "adam",
        }, scale, s => Quick(s, epochs: 4, train: 40000, test: 10000) with
        {
            Lm = s.Lm! with { Embedding = 128, Hidden = 128, Dropout = 0.2, Bptt = 35 },
        });
    }

    /// <summary>Every protocol name with its description.</summary>
    public static IReadOnlyDictionary<string, (string Description, Func<string, ExperimentSettings> Create)> All { get; } =
        new Dictionary<string, (string, Func<string, ExperimentSettings>)>(StringComparer.OrdinalIgnoreCase)
        {
            ["fmnist-mlp"] = ("Fashion-MNIST, MLP 784-256-256-10, 10 epochs, lr ×0.1 from epoch 9; adam / adamw / adamd / sgd", FmnistMlp),
            ["fmnist-resnet18"] = ("Fashion-MNIST, ResNet-18 (1 channel), crop 2 + flip, 15 epochs, lr ×0.1 from epoch 12; adam / adamw / adamd / sgd", FmnistResNet18),
            ["fmnist-cnn-bn"] = ("Fashion-MNIST, CNN 16/32 with batch norm, crop 2 + flip, 10 000 images, 4 epochs, lr ×0.1 in the last; adam / adamw / adamd / adamd-decoupled / sgd", FmnistCnnBn),
            ["cifar10-resnet34"] = ("CIFAR-10, ResNet-34, crop 4 + flip, 200 epochs, lr ×0.1 after 150; adam / adamw / adamd / sgd (the paper's)", s => Cifar("cifar10-resnet34", "cifar10", "resnet34", s, 256, 256, 3)),
            ["cifar10-densenet121"] = ("CIFAR-10, DenseNet-121, crop 4 + flip, 200 epochs, lr ×0.1 after 150; adam / adamw / adamd / sgd (the paper's)", s => Cifar("cifar10-densenet121", "cifar10", "densenet121", s, 128, 128, 2)),
            ["cifar10-vgg11"] = ("CIFAR-10, VGG-11-BN, crop 4 + flip, 200 epochs, lr ×0.1 after 150; adam / adamw / adamd / sgd (the paper's)", s => Cifar("cifar10-vgg11", "cifar10", "vgg11", s, 1024, 512, 4)),
            ["cifar100-resnet34"] = ("CIFAR-100, ResNet-34, crop 4 + flip, 200 epochs, lr ×0.1 after 150; adam / adamw / adamd / sgd (the paper's)", s => Cifar("cifar100-resnet34", "cifar100", "resnet34", s, 256, 256, 3)),
            ["cifar100-densenet121"] = ("CIFAR-100, DenseNet-121, crop 4 + flip, 200 epochs, lr ×0.1 after 150; adam / adamw / adamd / sgd (the paper's)", s => Cifar("cifar100-densenet121", "cifar100", "densenet121", s, 128, 128, 2)),
            ["ptb-lstm-1layer"] = ("Penn Treebank, 1-layer LSTM 400 tied, bptt 70, clip 0.25, 200 epochs, lr ÷10 after 100 and 145; adam / adamw / adamd at lr 1e-3", s => Ptb(1, s)),
            ["ptb-lstm-2layer"] = ("Penn Treebank, 2-layer LSTM 400/1150, bptt 70, clip 0.25, 200 epochs, lr ÷10 after 100 and 145; adam / adamw / adamd at lr 1e-2", s => Ptb(2, s)),
            ["ptb-lstm-3layer"] = ("Penn Treebank, 3-layer LSTM 400/1150, bptt 70, clip 0.25, 200 epochs, lr ÷10 after 100 and 145; adam / adamw / adamd at lr 1e-2", s => Ptb(3, s)),
        };

    public static ExperimentSettings Get(string name, string scale = "full")
        => All.TryGetValue(name, out var p) ? p.Create(scale)
           : throw new ArgumentException($"unknown protocol '{name}'. Known: {string.Join(", ", All.Keys)}.", "protocol");

    /// <summary>full: as published; quick: <paramref name="quick"/>'s smaller variant, sized to finish on 2 CPU cores.</summary>
    private static ExperimentSettings Scale(ExperimentSettings full, string scale, Func<ExperimentSettings, ExperimentSettings> quick) => scale.ToLowerInvariant() switch
    {
        "full" => full,
        "quick" => quick(full),
        _ => throw new ArgumentException($"unknown scale '{scale}': expected quick or full.", "scale"),
    };

    /// <summary>
    /// The first <paramref name="train"/> / <paramref name="test"/> records (tokens for language models) and
    /// <paramref name="epochs"/> epochs, the multistep milestones moved to the same relative place (rounded, and kept
    /// inside the run so every lr drop still happens). Image tasks hold out <paramref name="test"/> validation
    /// examples (the end of the training set) instead of the default 10 000, so evaluating them costs what test costs.
    /// </summary>
    public static ExperimentSettings Quick(ExperimentSettings full, int epochs, int train, int test) => full with
    {
        Epochs = epochs,
        TrainSubset = train,
        TestSubset = test,
        Validation = full.IsLanguageModel ? null : test,
        Schedule = full.Schedule.Kind == "multistep" && full.Schedule.Milestones is { } ms
            ? full.Schedule with
            {
                Milestones = ms.Select(m => Math.Clamp((int)Math.Round((double)m * epochs / full.Epochs, MidpointRounding.AwayFromZero), 1, Math.Max(1, epochs - 1)))
                               .Distinct().Order().ToArray(),
            }
            : full.Schedule,
    };
}
