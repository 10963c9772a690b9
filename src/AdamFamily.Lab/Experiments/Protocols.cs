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
    }, scale);

    /// <summary>Every protocol name with its description.</summary>
    public static IReadOnlyDictionary<string, (string Description, Func<string, ExperimentSettings> Create)> All { get; } =
        new Dictionary<string, (string, Func<string, ExperimentSettings>)>(StringComparer.OrdinalIgnoreCase)
        {
            ["fmnist-mlp"] = ("Fashion-MNIST, MLP 784-256-256-10, 10 epochs, lr ×0.1 from epoch 9; adam / adamw / adamd / sgd", FmnistMlp),
        };

    public static ExperimentSettings Get(string name, string scale = "full")
        => All.TryGetValue(name, out var p) ? p.Create(scale)
           : throw new ArgumentException($"unknown protocol '{name}'. Known: {string.Join(", ", All.Keys)}.", "protocol");

    /// <summary>
    /// quick: a subset and fewer epochs with the lr drop kept in the same relative place (about three
    /// minutes for fmnist-mlp on 2 cores); full: as published.
    /// </summary>
    private static ExperimentSettings Scale(ExperimentSettings s, string scale) => scale.ToLowerInvariant() switch
    {
        "full" => s,
        "quick" => s with
        {
            Epochs = 6,
            TrainSubset = 30000,
            Schedule = s.Schedule.Kind == "multistep" ? s.Schedule with { Milestones = new[] { 4 } } : s.Schedule,
        },
        _ => throw new ArgumentException($"unknown scale '{scale}': expected quick or full.", "scale"),
    };
}
