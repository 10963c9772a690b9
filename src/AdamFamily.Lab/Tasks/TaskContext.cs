using AdamFamily.Lab.Experiments;

namespace AdamFamily.Lab.Tasks;

/// <summary>
/// What a task is built from: the experiment (batch size, epochs, data path, device, subsets, …) and the task's own
/// options (<c>--task-option key=value</c> for a plugin; empty for the built-in tasks, which read the settings).
/// A plugin task has a public constructor taking a <see cref="TaskContext"/> (or none).
/// </summary>
public sealed record TaskContext(ExperimentSettings Settings, IReadOnlyDictionary<string, string> Options)
{
    /// <summary>A context with no task options.</summary>
    public TaskContext(ExperimentSettings settings) : this(settings, new Dictionary<string, string>()) { }

    /// <summary>The batch size every arm trains with.</summary>
    public int BatchSize => Settings.BatchSize;

    /// <summary>The TorchSharp device the runs train on ("cpu", "cuda:0").</summary>
    public string Device => Settings.Device;

    /// <summary>The experiment's data path (absolute), or null.</summary>
    public string? DataPath => Settings.DataPath;

    /// <summary>A task option, or <paramref name="fallback"/> when not given.</summary>
    public string Option(string key, string fallback) => Options.TryGetValue(key, out var v) ? v : fallback;
}
