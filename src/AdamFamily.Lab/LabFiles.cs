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
}
