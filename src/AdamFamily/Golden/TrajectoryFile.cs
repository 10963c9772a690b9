using System.Globalization;
using System.Text.Json;

namespace AdamFamily.Golden;

/// <summary>Reads trajectory files; every problem names the file and the case.</summary>
public static class TrajectoryFile
{
    /// <summary>Reads every case of a trajectory file; a problem throws an <see cref="InvalidDataException"/> naming the file and case.</summary>
    public static IReadOnlyList<TrajectoryCase> Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"trajectory file '{path}' does not exist.", path);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e); }
        using (doc)
        {
            if (!doc.RootElement.TryGetProperty("cases", out var cases) || cases.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"'{path}' has no 'cases' array (see docs/golden-format.md).");
            var result = new List<TrajectoryCase>();
            int index = 0;
            foreach (var c in cases.EnumerateArray())
            {
                string where = $"'{path}' case {index}";
                try { result.Add(Parse(c, ref where)); }
                catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
                {
                    throw new InvalidDataException($"{where}: {e.Message}", e);
                }
                index++;
            }
            return result;
        }
    }

    private static TrajectoryCase Parse(JsonElement c, ref string where)
    {
        string name = c.GetProperty("name").GetString()!;
        where = $"{where} ('{name}')";
        var options = new List<KeyValuePair<string, string>>();
        if (c.TryGetProperty("options", out var opts))
            foreach (var p in opts.EnumerateObject())
                options.Add(new(p.Name, OptionText(p.Value)));
        var shapes = c.GetProperty("shapes").EnumerateArray().Select(s => s.EnumerateArray().Select(d => d.GetInt64()).ToArray()).ToArray();
        var initial = Matrix(c.GetProperty("initial"));
        var grads = c.GetProperty("grads").EnumerateArray().Select(Matrix).ToArray();
        var traj = c.GetProperty("trajectory").EnumerateArray().Select(Matrix).ToArray();
        var lrs = c.GetProperty("lrs").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        string dtype = c.GetProperty("dtype").GetString()!;
        if (dtype is not ("float32" or "float64")) throw new FormatException($"dtype '{dtype}' is not float32 or float64");
        if (grads.Length != traj.Length || grads.Length != lrs.Length)
            throw new FormatException($"grads ({grads.Length}), lrs ({lrs.Length}) and trajectory ({traj.Length}) must have one entry per step");
        for (int i = 0; i < shapes.Length; i++)
        {
            long n = shapes[i].Aggregate(1L, (a, b) => a * b);
            if (initial.Length != shapes.Length || initial[i].Length != n)
                throw new FormatException($"initial value {i} has {(i < initial.Length ? initial[i].Length : 0)} elements; shape [{string.Join(",", shapes[i])}] needs {n}");
            for (int k = 0; k < grads.Length; k++)
                if (grads[k].Length != shapes.Length || grads[k][i].Length != n || traj[k].Length != shapes.Length || traj[k][i].Length != n)
                    throw new FormatException($"step {k}: gradient or trajectory of parameter {i} does not match shape [{string.Join(",", shapes[i])}]");
        }
        return new TrajectoryCase(name, c.GetProperty("optimizer").GetString()!, options, dtype, shapes, initial, grads, lrs, traj);
    }

    private static double[][] Matrix(JsonElement e) => e.EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray();

    private static string OptionText(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Array => "(" + string.Join(",", v.EnumerateArray().Select(OptionText)) + ")",
        JsonValueKind.Number => v.GetDouble().ToString("R", CultureInfo.InvariantCulture),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => v.GetString() ?? "",
    };
}
