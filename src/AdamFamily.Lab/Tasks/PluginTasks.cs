using System.Reflection;
using System.Runtime.Loader;
using AdamFamily.Lab.Experiments;

namespace AdamFamily.Lab.Tasks;

/// <summary>
/// Loads a user's task from a .NET assembly (<see cref="PluginSettings"/>): the assembly in a load context of its own
/// (its dependencies resolved beside it), the contract's assemblies — AdamFamily.Lab, AdamFamily, TorchSharp and
/// everything else this process already has — shared with the host, so the plugin's <see cref="TrainingTask"/> is
/// the lab's. Every failure names the DLL, the type or the option; none runs the plugin's code before the assembly's
/// fingerprint (when recorded by a plan) was checked.
/// </summary>
public static class PluginTasks
{
    // One context per assembly path for the process: a worker that runs many units loads the plugin once.
    private static readonly Dictionary<string, (string Sha256, Assembly Assembly)> Loaded = new();

    /// <summary>
    /// Builds the task an experiment names. The assembly's SHA-256 must equal the recorded one (a plan made with another
    /// build of the DLL is refused); the type must be public, concrete and derive from <see cref="TrainingTask"/>, with
    /// a public constructor taking a <see cref="TaskContext"/> or none, which must return within <see cref="TaskProbe.Timeout"/>.
    /// </summary>
    /// <exception cref="ArgumentException">What is wrong, naming the DLL, the type or the option.</exception>
    /// <exception cref="FileChangedException">The DLL changed since the plan was made.</exception>
    public static TrainingTask Load(ExperimentSettings settings)
    {
        var plugin = settings.Plugin ?? throw new ArgumentException($"task '{settings.Task}' needs --task-assembly PATH.dll and --task-type FULL.TYPE.NAME.", "task-assembly");
        plugin.Validate();
        var path = plugin.Assembly.Path;
        if (!File.Exists(path)) throw new ArgumentException($"--task-assembly '{path}' does not exist.", "task-assembly");
        plugin.Assembly.Verify("task assembly");
        var assembly = LoadAssembly(path, plugin.Assembly.Sha256);
        var type = FindType(assembly, plugin.Type, path);
        var owner = $"task type '{plugin.Type}' in '{Path.GetFileName(path)}'";
        return Construct(type, new TaskContext(settings, plugin.Options), owner);
    }

    private static Assembly LoadAssembly(string path, string sha256)
    {
        lock (Loaded)
        {
            if (Loaded.TryGetValue(path, out var known))
                return known.Sha256 == sha256 ? known.Assembly
                    : throw new FileChangedException($"task assembly '{path}' changed while this process had it loaded; start a new process (and a new results folder).");
            Assembly assembly;
            try { assembly = new PluginLoadContext(path).LoadFromAssemblyPath(path); }
            catch (BadImageFormatException) { throw new ArgumentException($"--task-assembly '{path}' is not a .NET assembly (a DLL built from a C# project: bin/Release/net10.0/NAME.dll).", "task-assembly"); }
            catch (FileLoadException e) { throw new ArgumentException($"--task-assembly '{path}' cannot be loaded: {e.Message}", "task-assembly"); }
            Loaded[path] = (sha256, assembly);
            return assembly;
        }
    }

    private static Type FindType(Assembly assembly, string name, string path)
    {
        Type? type;
        try { type = assembly.GetType(name, throwOnError: false); }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or TypeLoadException or BadImageFormatException)
        { throw new ArgumentException($"--task-type '{name}' in '{path}' cannot be loaded: {e.Message} (is a dependency missing beside the DLL?)", "task-type"); }
        if (type is null)
        {
            var tasks = TaskTypes(assembly);
            throw new ArgumentException($"--task-type '{name}': no such type in '{path}'. " +
                                        (tasks.Length > 0 ? $"Its task types: {string.Join(", ", tasks)}." : "It has no public class deriving from AdamFamily.Lab.Tasks.TrainingTask.") +
                                        " Give the full name (namespace and class).", "task-type");
        }
        if (!(type.IsPublic || type.IsNestedPublic)) throw new ArgumentException($"--task-type '{name}' in '{path}' is not public; make the class public.", "task-type");
        if (!typeof(TrainingTask).IsAssignableFrom(type))
            throw new ArgumentException($"--task-type '{name}' in '{path}' does not derive from AdamFamily.Lab.Tasks.TrainingTask " +
                                        $"(of AdamFamily.Lab {typeof(TrainingTask).Assembly.GetName().Version}, which this afm runs).", "task-type");
        if (type.IsAbstract || type.ContainsGenericParameters) throw new ArgumentException($"--task-type '{name}' in '{path}' is abstract or generic; name a concrete class.", "task-type");
        return type;
    }

    private static string[] TaskTypes(Assembly assembly)
    {
        Type?[] types;
        try { types = assembly.GetExportedTypes(); }
        catch (ReflectionTypeLoadException e) { types = e.Types; }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or TypeLoadException) { return []; }
        return types.Where(t => t is { IsAbstract: false } && typeof(TrainingTask).IsAssignableFrom(t)).Select(t => t!.FullName!).Order(StringComparer.Ordinal).ToArray();
    }

    private static TrainingTask Construct(Type type, TaskContext context, string owner)
    {
        var withContext = type.GetConstructor([typeof(TaskContext)]);
        var parameterless = withContext is null ? type.GetConstructor(Type.EmptyTypes) : null;
        if (withContext is null && parameterless is null)
            throw new ArgumentException($"{owner}: no public constructor taking a TaskContext (or none); add one.", "task-type");
        if (parameterless is not null && context.Options.Count > 0)
            throw new ArgumentException($"{owner} takes no options (its constructor has no TaskContext), yet --task-option {string.Join(", ", context.Options.Keys)} was given.", "task-option");
        TrainingTask? task = null;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try { task = (TrainingTask)(withContext is not null ? withContext.Invoke([context]) : parameterless!.Invoke(null)); }
            catch (TargetInvocationException e) { error = e.InnerException ?? e; }
            catch (Exception e) { error = e; }
        }) { IsBackground = true, Name = "afm plugin constructor" };
        thread.Start();
        if (!thread.Join(TaskProbe.Timeout))
            throw new ArgumentException($"{owner}: the constructor did not return within {TaskProbe.Timeout.TotalSeconds:0} s (the limit for each step of a task's check); does it loop, or wait for something?", "task-type");
        if (error is not null)
            throw new ArgumentException($"{owner}: the constructor failed: {error.GetType().Name}: {error.Message}", error is ArgumentException ? "task-option" : "task-type", error);
        return task!;
    }

    /// <summary>The plugin's own context: its dependencies from beside it, except those the host has (shared, so types match).</summary>
    private sealed class PluginLoadContext(string path) : AssemblyLoadContext($"afm task {Path.GetFileName(path)}")
    {
        private readonly AssemblyDependencyResolver _resolver = new(path);
        private readonly string _dir = Path.GetDirectoryName(path)!;

        protected override Assembly? Load(AssemblyName name)
        {
            try { return Default.LoadFromAssemblyName(name); }   // the host's copy wins: one TrainingTask, one TorchSharp
            catch (FileNotFoundException) { }
            var resolved = _resolver.ResolveAssemblyToPath(name);
            if (resolved is null && name.Name is { } n && File.Exists(Path.Combine(_dir, n + ".dll"))) resolved = Path.Combine(_dir, n + ".dll");
            return resolved is null ? null : LoadFromAssemblyPath(resolved);
        }

        protected override IntPtr LoadUnmanagedDll(string unmanagedDllName) =>
            _resolver.ResolveUnmanagedDllToPath(unmanagedDllName) is { } p ? LoadUnmanagedDllFromPath(p) : IntPtr.Zero;
    }
}
