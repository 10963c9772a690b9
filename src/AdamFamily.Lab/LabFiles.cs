using System.Text.Json;
using System.Text.Json.Serialization;

namespace AdamFamily.Lab;

/// <summary>
/// How the lab writes its files: one JSON convention (snake_case, NaN and ∞ allowed, nulls left out) and
/// atomic writes (a temporary file renamed into place), so a killed run never leaves a half file behind.
/// </summary>
public static class LabFiles
{
    /// <summary>Indented JSON, for files people read (experiment.json, summary.json, theory results).</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>
    /// The same convention for reading files people write or edit (experiment files): a key the type does not
    /// have (a typo), a key given twice (the last would silently win) and a null where a value is required are
    /// errors, not silently the default.
    /// </summary>
    public static readonly JsonSerializerOptions StrictRead = new(Json)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>The same convention on one line, for JSON-lines files.</summary>
    public static readonly JsonSerializerOptions JsonLine = new(Json) { WriteIndented = false };

    /// <summary>Writes <paramref name="content"/> to a temporary file beside <paramref name="path"/>, then renames it into place.</summary>
    public static void WriteAtomically(string path, string content)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        var tmp = path + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(tmp, content);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Writes <paramref name="value"/> as indented JSON, atomically; returns the path.</summary>
    public static string WriteJson<T>(T value, string path)
    {
        WriteAtomically(path, JsonSerializer.Serialize(value, Json));
        return path;
    }

    /// <summary>
    /// Checks, before any work is done, that <paramref name="path"/> can be written as a file: not a folder, its
    /// folder exists, and a file can be created there (and, if it exists, it can be opened for writing; it is not
    /// changed). Throws <see cref="IOException"/> naming <paramref name="what"/> (e.g. "--json") and the path.
    /// </summary>
    public static void CheckWritableFile(string path, string what)
    {
        var full = FullPath(path, what);
        if (Directory.Exists(full)) throw new IOException($"{what} '{path}' is a folder; give a file name.");
        var dir = Path.GetDirectoryName(full)!;
        if (File.Exists(dir)) throw new IOException($"{what} '{path}': '{dir}' is a file, not a folder.");
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{what} '{path}': the folder '{dir}' does not exist.");
        Probe(dir, path, what);
        if (File.Exists(full))
        {
            try { using var _ = new FileStream(full, FileMode.Open, FileAccess.Write); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new IOException($"{what} '{path}' cannot be written: {e.Message}", e); }
        }
    }

    /// <summary>
    /// Checks, before any work is done, that <paramref name="dir"/> is (or can be made) a folder afm can write in;
    /// creates it. Throws <see cref="IOException"/> naming <paramref name="what"/> (e.g. "--out") and the path.
    /// </summary>
    public static void CheckWritableFolder(string dir, string what)
    {
        var full = FullPath(dir, what);
        if (File.Exists(full)) throw new IOException($"{what} '{dir}' is a file, not a folder.");
        try { Directory.CreateDirectory(full); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new IOException($"{what} '{dir}' cannot be created: {e.Message}", e); }
        Probe(full, dir, what);
    }

    private static string FullPath(string path, string what)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException($"{what}: an empty path.", what);
        try { return Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException) { throw new ArgumentException($"{what} '{path}' is not a valid path: {e.Message}", what, e); }
    }

    private static void Probe(string dir, string shown, string what)
    {
        var probe = Path.Combine(dir, $".afm-write-probe-{Environment.ProcessId}");
        try { File.WriteAllText(probe, ""); File.Delete(probe); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new IOException($"{what} '{shown}': cannot write in '{dir}': {e.Message}", e); }
    }
}
