using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace LinuxNetns.Analyzers;

/// <summary>
/// Warns where code inside a <c>NetworkNamespace.Enter()</c> scope or a <c>NetworkNamespace.Run</c> delegate starts
/// threads or queues work (LNS0001, LNS0002) or awaits inside a <c>Run</c> delegate (LNS0003). The rule is
/// syntactic: everything written inside the <c>using</c> (up to the end of the block for <c>using var</c>) or inside
/// the lambda passed to <c>Run</c> counts, nested lambdas and local functions included; code in other methods called
/// from there does not. docs/runtime-threads.md, "The analyzer", lists what is caught.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ThreadsInNamespaceAnalyzer : DiagnosticAnalyzer
{
    public const string InScopeId = "LNS0001";
    public const string InRunId = "LNS0002";
    public const string AwaitInRunId = "LNS0003";
    private const string Category = "LinuxNetns.Threading";

    internal static readonly DiagnosticDescriptor InScope = new(
        InScopeId,
        title: "Thread or task started inside a namespace scope",
        messageFormat: "'{0}' starts a thread or queues work while this thread is switched by NetworkNamespace.Enter(): " +
                       "a thread born here stays in the namespace for ever, and queued work runs outside it. " +
                       "Start it before Enter() or after the scope ends; for sockets use ns.CreateSocket; " +
                       "for synchronous work inside the namespace use ns.Run.",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Threads inherit the network namespace of the thread that creates them. See docs/runtime-threads.md in the LinuxNetns repository.");

    internal static readonly DiagnosticDescriptor InRun = new(
        InRunId,
        title: "Thread or task started inside a NetworkNamespace.Run delegate",
        messageFormat: "'{0}' starts a thread or queues work inside a NetworkNamespace.Run delegate: " +
                       "queued work runs on other threads, outside the namespace, and a thread born here stays in it. " +
                       "Do the work synchronously inside Run, or start it outside Run; for sockets use ns.CreateSocket.",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Run executes the delegate on the namespace's worker thread. See docs/runtime-threads.md in the LinuxNetns repository.");

    internal static readonly DiagnosticDescriptor AwaitInRun = new(
        AwaitInRunId,
        title: "'await' inside a NetworkNamespace.Run delegate",
        messageFormat: "'await' inside a NetworkNamespace.Run delegate: Run returns at the first await that does not complete at once, " +
                       "and the code after it runs on another thread, outside the namespace. " +
                       "Keep the delegate synchronous; for async networking create the socket with ns.CreateSocket and await outside Run.",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Run takes an Action or a Func<T>; an async lambda becomes async void or returns a Task. See docs/runtime-threads.md in the LinuxNetns repository.");

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(InScope, InRun, AwaitInRun);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var symbols = KnownSymbols.Create(start.Compilation);
            if (symbols is null)
                return; // LinuxNetns is not referenced: nothing to look for.
            start.RegisterOperationAction(c => OnInvocation(c, symbols), OperationKind.Invocation);
            start.RegisterOperationAction(c => OnCreation(c, symbols), OperationKind.ObjectCreation);
            start.RegisterOperationAction(c => OnAwait(c, symbols), OperationKind.Await);
        });
    }

    private static void OnInvocation(OperationAnalysisContext context, KnownSymbols symbols)
    {
        var invocation = (IInvocationOperation)context.Operation;
        IMethodSymbol method = invocation.TargetMethod;
        if (symbols.StartsThreadOrWork(method))
            Report(context, symbols, invocation.Syntax, method.ContainingType.Name + "." + method.Name);
    }

    private static void OnCreation(OperationAnalysisContext context, KnownSymbols symbols)
    {
        var creation = (IObjectCreationOperation)context.Operation;
        if (creation.Constructor is { } ctor && symbols.IsTimer(ctor.ContainingType))
            Report(context, symbols, creation.Syntax, "new " + ctor.ContainingType.ToDisplayString());
    }

    private static void OnAwait(OperationAnalysisContext context, KnownSymbols symbols)
    {
        // Inside Enter() the compiler already refuses the await (CS4007: the scope is a ref struct).
        if (FindContext(context.Operation.Syntax, context.Operation.SemanticModel!, symbols, context.CancellationToken) == Where.Run)
            context.ReportDiagnostic(Diagnostic.Create(AwaitInRun, context.Operation.Syntax.GetLocation()));
    }

    private static void Report(OperationAnalysisContext context, KnownSymbols symbols, SyntaxNode node, string what)
    {
        switch (FindContext(node, context.Operation.SemanticModel!, symbols, context.CancellationToken))
        {
            case Where.Scope:
                context.ReportDiagnostic(Diagnostic.Create(InScope, node.GetLocation(), what));
                break;
            case Where.Run:
                context.ReportDiagnostic(Diagnostic.Create(InRun, node.GetLocation(), what));
                break;
        }
    }

    private enum Where { Outside, Scope, Run }

    /// <summary>The innermost Enter() scope or Run delegate that syntactically contains <paramref name="node"/>.</summary>
    private static Where FindContext(SyntaxNode node, SemanticModel model, KnownSymbols symbols, System.Threading.CancellationToken token)
    {
        SyntaxNode child = node;
        for (SyntaxNode? parent = node.Parent; parent is not null; child = parent, parent = parent.Parent)
        {
            switch (parent)
            {
                // using (ns.Enter()) statement — only its body is inside, not the resource expression.
                case UsingStatementSyntax { Statement: var body } @using when child == body:
                    if (IsEnter(@using.Expression, model, symbols, token) ||
                        (@using.Declaration is { } d && DeclaresEnter(d, model, symbols, token)))
                        return Where.Scope;
                    break;

                // using var s = ns.Enter(); — the statements after it, to the end of the block.
                case BlockSyntax block when child is StatementSyntax statement:
                    if (FollowsUsingDeclarationOfEnter(block.Statements, statement, model, symbols, token))
                        return Where.Scope;
                    break;

                // The same at top level (top-level statements).
                case CompilationUnitSyntax unit when child is GlobalStatementSyntax global:
                    if (FollowsUsingDeclarationOfEnter(unit.Members.OfType<GlobalStatementSyntax>().Select(g => g.Statement), global.Statement, model, symbols, token))
                        return Where.Scope;
                    break;

                // ns.Run(() => …) or ns.Run(delegate { … }), the lambda written as the argument.
                case AnonymousFunctionExpressionSyntax lambda when IsRunArgument(lambda, model, symbols, token):
                    return Where.Run;
            }
        }
        return Where.Outside;
    }

    /// <summary>Whether a <c>using var … = ns.Enter();</c> comes before <paramref name="statement"/> among <paramref name="statements"/>.</summary>
    private static bool FollowsUsingDeclarationOfEnter(IEnumerable<StatementSyntax> statements, StatementSyntax statement, SemanticModel model, KnownSymbols symbols, System.Threading.CancellationToken token)
    {
        foreach (StatementSyntax earlier in statements)
        {
            if (earlier == statement)
                return false;
            if (IsUsingDeclarationOfEnter(earlier, model, symbols, token))
                return true;
        }
        return false;
    }

    private static bool IsUsingDeclarationOfEnter(StatementSyntax statement, SemanticModel model, KnownSymbols symbols, System.Threading.CancellationToken token) =>
        statement is LocalDeclarationStatementSyntax { UsingKeyword.RawKind: (int)SyntaxKind.UsingKeyword } local &&
        DeclaresEnter(local.Declaration, model, symbols, token);

    private static bool DeclaresEnter(VariableDeclarationSyntax declaration, SemanticModel model, KnownSymbols symbols, System.Threading.CancellationToken token)
    {
        foreach (VariableDeclaratorSyntax variable in declaration.Variables)
            if (IsEnter(variable.Initializer?.Value, model, symbols, token))
                return true;
        return false;
    }

    private static bool IsEnter(ExpressionSyntax? expression, SemanticModel model, KnownSymbols symbols, System.Threading.CancellationToken token)
    {
        while (expression is ParenthesizedExpressionSyntax p)
            expression = p.Expression;
        return expression is InvocationExpressionSyntax &&
               model.GetSymbolInfo(expression, token).Symbol is IMethodSymbol m &&
               SymbolEqualityComparer.Default.Equals(m.ContainingType, symbols.NetworkNamespace) &&
               m.Name == "Enter";
    }

    private static bool IsRunArgument(AnonymousFunctionExpressionSyntax lambda, SemanticModel model, KnownSymbols symbols, System.Threading.CancellationToken token)
    {
        SyntaxNode? up = lambda.Parent;
        while (up is ParenthesizedExpressionSyntax or CastExpressionSyntax)
            up = up.Parent;
        return up is ArgumentSyntax { Parent: ArgumentListSyntax { Parent: InvocationExpressionSyntax call } } &&
               model.GetSymbolInfo(call, token).Symbol is IMethodSymbol m &&
               SymbolEqualityComparer.Default.Equals(m.ContainingType, symbols.NetworkNamespace) &&
               m.Name == "Run";
    }

    /// <summary>The types looked up once per compilation; null when LinuxNetns is not referenced.</summary>
    private sealed class KnownSymbols
    {
        public INamedTypeSymbol NetworkNamespace { get; private set; } = null!;
        private INamedTypeSymbol? _task, _taskFactory, _taskFactoryOfT, _thread, _threadPool, _parallel;
        private INamedTypeSymbol? _threadingTimer, _timersTimer, _periodicTimer;

        public static KnownSymbols? Create(Compilation compilation)
        {
            INamedTypeSymbol? ns = compilation.GetTypeByMetadataName("LinuxNetns.NetworkNamespace");
            if (ns is null)
                return null;
            return new KnownSymbols
            {
                NetworkNamespace = ns,
                _task = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task"),
                _taskFactory = compilation.GetTypeByMetadataName("System.Threading.Tasks.TaskFactory"),
                _taskFactoryOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.TaskFactory`1"),
                _thread = compilation.GetTypeByMetadataName("System.Threading.Thread"),
                _threadPool = compilation.GetTypeByMetadataName("System.Threading.ThreadPool"),
                _parallel = compilation.GetTypeByMetadataName("System.Threading.Tasks.Parallel"),
                _threadingTimer = compilation.GetTypeByMetadataName("System.Threading.Timer"),
                _timersTimer = compilation.GetTypeByMetadataName("System.Timers.Timer"),
                _periodicTimer = compilation.GetTypeByMetadataName("System.Threading.PeriodicTimer"),
            };
        }

        public bool StartsThreadOrWork(IMethodSymbol method)
        {
            INamedTypeSymbol type = method.ContainingType.OriginalDefinition;
            string name = method.Name;
            if (Is(type, _task))
                return name is "Run" or "Start"; // Task.Run, new Task(…).Start()
            if (Is(type, _taskFactory) || Is(type, _taskFactoryOfT))
                return name == "StartNew";
            if (Is(type, _thread))
                return name is "Start" or "UnsafeStart"; // the OS thread is born at Start, not at new Thread(…)
            if (Is(type, _parallel))
                return true; // For, ForEach, ForAsync, ForEachAsync, Invoke: all run on pool threads
            if (Is(type, _threadPool))
                return name.StartsWith("QueueUserWorkItem", System.StringComparison.Ordinal) ||
                       name.StartsWith("UnsafeQueue", System.StringComparison.Ordinal) ||
                       name.IndexOf("RegisterWaitForSingleObject", System.StringComparison.Ordinal) >= 0;
            if (Is(type, _timersTimer))
                return name == "Start";
            return false;
        }

        public bool IsTimer(INamedTypeSymbol type) =>
            Is(type, _threadingTimer) || Is(type, _timersTimer) || Is(type, _periodicTimer);

        private static bool Is(INamedTypeSymbol type, INamedTypeSymbol? known) =>
            known is not null && SymbolEqualityComparer.Default.Equals(type, known);
    }
}
