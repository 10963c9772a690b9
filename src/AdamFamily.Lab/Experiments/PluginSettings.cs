namespace AdamFamily.Lab.Experiments;

/// <summary>
/// A task of the user's own, loaded from a .NET assembly (<c>--task-assembly PATH.dll --task-type FULL.TYPE.NAME
/// --task-option key=value</c>): the assembly by path, size and SHA-256 (a worker refuses one changed since the plan was
/// made), the type's full name, and the options handed to its constructor through <see cref="Tasks.TaskContext"/>.
/// </summary>
/// <param name="Assembly">The DLL, fingerprinted when the experiment was set up.</param>
/// <param name="Type">The full name of a public, non-abstract class deriving from <see cref="Tasks.TrainingTask"/>.</param>
/// <param name="Options">The task's own options, by key (sorted, so equal options give an equal experiment.json).</param>
public sealed record PluginSettings(FileFingerprint Assembly, string Type, SortedDictionary<string, string> Options)
{
    /// <summary>The task name an experiment with a plugin task carries (<c>--task plugin</c> is implied by <c>--task-assembly</c>).</summary>
    public const string TaskName = "plugin";

    /// <summary>The model name of a plugin experiment: the task builds its own model.</summary>
    public const string OwnModel = "own";

    /// <summary>Checks the recorded values (not the assembly itself: <see cref="Tasks.PluginTasks.Load"/> does that).</summary>
    /// <exception cref="ArgumentException">A missing assembly record or type name, or an empty option key.</exception>
    public void Validate()
    {
        if (Assembly is null || string.IsNullOrWhiteSpace(Assembly.Path)) throw new ArgumentException("plugin: no assembly; give --task-assembly PATH.dll.", "task-assembly");
        if (string.IsNullOrWhiteSpace(Type)) throw new ArgumentException("plugin: no type; give --task-type FULL.TYPE.NAME (namespace and class).", "task-type");
        if (Options is null) throw new ArgumentException("plugin: options is null; leave the key out for none.", "task-option");
        foreach (var (k, v) in Options)
        {
            if (string.IsNullOrWhiteSpace(k)) throw new ArgumentException("--task-option: an empty key; write key=value.", "task-option");
            if (v is null) throw new ArgumentException($"--task-option {k}: no value; write {k}=value.", "task-option");
        }
    }

    /// <summary>Parses repeated <c>--task-option key=value</c> values; a key given twice is refused (the last would silently win).</summary>
    /// <exception cref="ArgumentException">A value without '=', an empty key, or a repeated key.</exception>
    public static SortedDictionary<string, string> ParseOptions(IEnumerable<string> values)
    {
        var options = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var text in values)
        {
            int eq = text.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"--task-option '{text}': expected key=value (e.g. --task-option rows=500).", "task-option");
            var key = text[..eq].Trim();
            if (key.Length == 0) throw new ArgumentException($"--task-option '{text}': an empty key; write key=value.", "task-option");
            if (!options.TryAdd(key, text[(eq + 1)..]))
                throw new ArgumentException($"--task-option {key} is given twice; give it once.", "task-option");
        }
        return options;
    }
}
