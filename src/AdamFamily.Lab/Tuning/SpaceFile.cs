using System.Text.Json;

namespace AdamFamily.Lab.Tuning;

/// <summary>
/// Reads a <c>--space-file</c> strictly: <c>{"ARM": [{"key": "lr", "low": 1e-4, "high": 1e-2, "log": true}, …], …}</c>.
/// "log" may be left out (log-uniform for lr, weight_decay and eps, uniform for the others, as on the command line);
/// everything else is required. An unknown field (a typo such as "lo"), a null, a value of the wrong type, a key or
/// an arm given twice, an empty list or a file that names no arm is an <see cref="InvalidDataException"/> naming the
/// file, the arm and the entry — never silently a default.
/// </summary>
public static class SpaceFile
{
    /// <summary>The overrides per arm label, in the file's order.</summary>
    public static Dictionary<string, SearchDimension[]> Read(string path)
    {
        if (Directory.Exists(path)) throw new InvalidDataException($"--space-file '{path}' is a folder; give the JSON file.");
        if (!File.Exists(path)) throw new FileNotFoundException($"--space-file '{path}' does not exist.", path);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { AllowDuplicateProperties = false }); }
        catch (JsonException e) { throw Bad(path, $"not valid JSON{(e.LineNumber is { } l ? $" (line {l + 1})" : "")}: {e.Message.Split(" Path:")[0].Split(" LineNumber:")[0]}"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Bad(path, $"expected an object {{\"ARM\": [...]}}, found {Kind(root)}");
            var result = new Dictionary<string, SearchDimension[]>();
            foreach (var arm in root.EnumerateObject())
            {
                if (arm.Value.ValueKind != JsonValueKind.Array) throw Bad(path, $"arm '{arm.Name}': expected a list of dimensions, found {Kind(arm.Value)}");
                var dims = new List<SearchDimension>();
                int i = 0;
                foreach (var entry in arm.Value.EnumerateArray())
                {
                    var where = $"arm '{arm.Name}', entry {i + 1}";
                    dims.Add(Dimension(path, where, entry, dims));
                    i++;
                }
                if (dims.Count == 0) throw Bad(path, $"arm '{arm.Name}': an empty list of dimensions (leave the arm out to keep its default space)");
                result[arm.Name] = dims.ToArray();
            }
            if (result.Count == 0) throw Bad(path, "names no arm");
            return result;
        }
    }

    private static SearchDimension Dimension(string path, string where, JsonElement entry, List<SearchDimension> before)
    {
        if (entry.ValueKind != JsonValueKind.Object) throw Bad(path, $"{where}: expected {{\"key\": ..., \"low\": ..., \"high\": ...}}, found {Kind(entry)}");
        string? key = null;
        double? low = null, high = null;
        bool? log = null;
        foreach (var p in entry.EnumerateObject())
        {
            switch (p.Name)
            {
                case "key":
                    key = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : throw Bad(path, $"{where}: \"key\" must be a string, found {Kind(p.Value)}");
                    break;
                case "low": low = Number(path, where, p); break;
                case "high": high = Number(path, where, p); break;
                case "log":
                    log = p.Value.ValueKind is JsonValueKind.True or JsonValueKind.False ? p.Value.GetBoolean()
                        : throw Bad(path, $"{where}: \"log\" must be true or false, found {Kind(p.Value)}");
                    break;
                default: throw Bad(path, $"{where}: unknown field '{p.Name}' (the fields are key, low, high and log)");
            }
        }
        if (string.IsNullOrWhiteSpace(key)) throw Bad(path, $"{where}: \"key\" is missing");
        key = key.Trim().ToLowerInvariant();
        if (low is null || high is null) throw Bad(path, $"{where} ({key}): \"{(low is null ? "low" : "high")}\" is missing");
        if (before.Any(d => d.Key == key)) throw Bad(path, $"{where}: '{key}' is given twice for this arm");
        return new SearchDimension(key, low.Value, high.Value, log ?? SearchSpace.LogByDefault(key));
    }

    private static double Number(string path, string where, JsonProperty p) =>
        p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetDouble(out var v) ? v
            : throw Bad(path, $"{where}: \"{p.Name}\" must be a number, found {Kind(p.Value)}");

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => "null",
        JsonValueKind.String => $"the string \"{e.GetString()}\"",
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        JsonValueKind.True or JsonValueKind.False => e.GetRawText(),
        _ => e.GetRawText(),
    };

    private static InvalidDataException Bad(string path, string what) =>
        new($"--space-file '{path}': {what}; expected {{\"ARM\": [{{\"key\": \"lr\", \"low\": 1e-4, \"high\": 1e-2, \"log\": true}}]}}.");
}
