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
        try { doc = JsonDocument.Parse(ReadBounded(path)); }
        catch (JsonException e) { throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("cases", out var cases) || cases.ValueKind != JsonValueKind.Array)
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

    /// <summary>The most bytes a trajectory file may have (the golden files are a few MB); a device such as /dev/zero never ends.</summary>
    public const long MaxBytes = 1L << 30;

    private static byte[] ReadBounded(string path)
    {
        using var stream = File.OpenRead(path);
        using var memory = new MemoryStream();
        var buffer = new byte[1 << 16];
        int n;
        while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            if (memory.Length + n > MaxBytes) throw new InvalidDataException($"'{path}' is larger than {MaxBytes >> 20} MiB (or never ends): not a trajectory file.");
            memory.Write(buffer, 0, n);
        }
        return memory.ToArray();
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
        // 'steps' is optional, but when given it must agree: a file that says 0 (or 10⁹) steps and holds 25 is not what it claims.
        if (c.TryGetProperty("steps", out var stepsField) && !(stepsField.ValueKind == JsonValueKind.Number && stepsField.TryGetInt64(out var declared) && declared == grads.Length))
            throw new FormatException($"'steps' is {stepsField.GetRawText()} but the case has {grads.Length} steps (entries of grads, lrs and trajectory)");
        for (int i = 0; i < shapes.Length; i++)
        {
            if (shapes[i].Any(d => d < 0)) throw new FormatException($"shape {i} [{string.Join(",", shapes[i])}] has a negative dimension");
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
