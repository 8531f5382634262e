using System.Globalization;
using BenchmarkDotNet.Reports;

namespace LinuxNetns.Benchmarks;

/// <summary>
/// One line per operation (and number of namespaces present): median times of library, floor and <c>ip netns</c>, the
/// ratios to the floor, what the library allocates, and the docs/design.md §12 target with whether this run meets it.
/// Printed after the run, for all classes that ran, and written to <c>BenchmarkDotNet.Artifacts/results/targets.md</c>.
/// </summary>
internal static class TargetsTable
{
    public static void Write(IEnumerable<BenchmarkReport> reports, TextWriter logger)
    {
        var rows = reports
            .Where(r => r.ResultStatistics is not null)
            // Benchmarks without a category (discovery against lsns) have no floor or target: BenchmarkDotNet's own
            // summary shows them.
            .Where(r => r.BenchmarkCase.Descriptor.Categories.Length > 0)
            .GroupBy(r => (Category: r.BenchmarkCase.Descriptor.Categories.FirstOrDefault() ?? "", Present: Present(r)))
            .OrderBy(g => g.Key.Present is null ? 0 : 1)
            .ThenBy(g => Array.IndexOf(Order, g.Key.Category) is int i && i >= 0 ? i : Order.Length)
            .ThenBy(g => g.Key.Present);

        logger.WriteLine("| operation | present | library | floor | ip netns | library ÷ floor | ip ÷ floor | library allocates | target | this run |");
        logger.WriteLine("|---|--:|--:|--:|--:|--:|--:|--:|---|---|");
        var execByPresent = new Dictionary<int, double>();
        foreach (var group in rows)
        {
            BenchmarkReport? library = group.FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name.EndsWith("_Library", StringComparison.Ordinal));
            BenchmarkReport? floor = group.FirstOrDefault(r => r.BenchmarkCase.Descriptor.Baseline);
            BenchmarkReport? ip = group.FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name.EndsWith("_Ip", StringComparison.Ordinal));
            // Medians: on a shared machine a few slow calls move the mean far more than the median.
            double? lib = library?.ResultStatistics?.Median, flo = floor?.ResultStatistics?.Median, ipm = ip?.ResultStatistics?.Median;
            long? allocated = library is null ? null : library.GcStats.GetBytesAllocatedPerOperation(library.BenchmarkCase);
            (string target, bool? met) = Target(group.Key.Category, lib, flo, ipm, allocated);
            if (group.Key.Category == "exec /bin/true" && group.Key.Present is int present && lib is double l) execByPresent[present] = l;
            logger.WriteLine(string.Join(" | ",
                "| " + group.Key.Category,
                group.Key.Present?.ToString(CultureInfo.InvariantCulture) ?? "",
                Time(lib), Time(flo), Time(ipm),
                Ratio(lib, flo), Ratio(ipm, flo),
                allocated is null ? "" : allocated == 0 ? "0 B" : $"{allocated} B",
                target,
                met is null ? "" : met.Value ? "meets" : "**misses**") + " |");
        }
        if (execByPresent.TryGetValue(10, out double few) && execByPresent.TryGetValue(1000, out double many))
        {
            double growth = many / few;
            logger.WriteLine();
            logger.WriteLine($"exec /bin/true, library, 1000 present ÷ 10 present: {growth:F2} (target ≤ 1.25: {(growth <= 1.25 ? "meets" : "**misses**")})");
        }
    }

    private static readonly string[] Order =
        ["create+delete", "create", "delete", "open+dispose", "enter+exit", "Run(empty)", "RunAsync(empty)", "RunAsync(await Task.Yield())", "CreateSocket", "list", "exec /bin/true"];

    private static int? Present(BenchmarkReport report) =>
        report.BenchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == nameof(ScaleBase.Present))?.Value as int?;

    /// <summary>docs/design.md §12.</summary>
    private static (string Text, bool? Met) Target(string category, double? library, double? floor, double? ip, long? allocated)
    {
        double? ratio = library / floor;
        return category switch
        {
            "enter+exit" => ("≤ 1.5× floor, 0 B", ratio is null ? null : ratio <= 1.5 && allocated == 0),
            "create+delete" or "create" or "delete" => ("≤ 1.2× floor", ratio is null ? null : ratio <= 1.2),
            "exec /bin/true" => ("≤ 0.5× ip netns exec", library is null || ip is null ? null : library / ip <= 0.5),
            "Run(empty)" => ("overhead ≤ 20 µs", library is null || floor is null ? null : library - floor <= 20_000),
            _ => ("—", null),
        };
    }

    private static string Time(double? ns) => ns switch
    {
        null => "",
        < 10_000 => $"{ns / 1000:F2} µs",
        < 1_000_000 => $"{ns / 1000:F1} µs",
        _ => $"{ns / 1_000_000:F2} ms",
    };

    private static string Ratio(double? a, double? b) => a is null || b is null ? "" : $"{a / b:F2}";
}
