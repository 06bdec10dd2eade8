using Prometheus;
using Varpulis.Vpl.Compilation.Connectors;

namespace Varpulis.Actors.Connectors;

/// <summary>Connection state of a connector as the API shows it.</summary>
public enum ConnectionState
{
    Connecting,
    Connected,
    Reconnecting,
    Failed,
    Stopped,
}

/// <summary>Circuit breaker state of a sink as the API shows it.</summary>
public enum CircuitState
{
    Closed,
    Open,
    HalfOpen,
}

/// <summary>
/// The live health of one connector in one direction of one pipeline: connection state, breaker state, counts
/// and the last error. Written by the source graph or sink worker (any thread), read by status requests; every
/// change is mirrored into the Prometheus metrics with the labels <c>pipeline</c>, <c>connector</c>, <c>direction</c>.
/// </summary>
public sealed class ConnectorHealth
{
    private readonly object _gate = new();
    private readonly Counter.Child _delivered;
    private readonly Counter.Child _failed;
    private readonly Counter.Child _rejected;
    private readonly Gauge.Child _state;
    private readonly Gauge.Child? _circuit;
    private ConnectionState _connection = ConnectionState.Connecting;
    private CircuitState _circuitState = CircuitState.Closed;
    private long _deliveredCount;
    private long _failedCount;
    private long _rejectedCount;
    private long _dlqCount;
    private string? _lastError;

    public ConnectorHealth(string pipelineId, string connector, ConnectorKind kind, BindingDirection direction)
    {
        PipelineId = pipelineId;
        Connector = connector;
        Kind = kind;
        Direction = direction;
        string dir = DirectionName(direction);
        _delivered = ConnectorMetrics.Events.WithLabels(pipelineId, connector, dir, "delivered");
        _failed = ConnectorMetrics.Events.WithLabels(pipelineId, connector, dir, "failed");
        _rejected = ConnectorMetrics.Events.WithLabels(pipelineId, connector, dir, "rejected");
        _state = ConnectorMetrics.State.WithLabels(pipelineId, connector, dir);
        _state.Set((int)_connection);
        if (direction == BindingDirection.Sink)
        {
            _circuit = ConnectorMetrics.Circuit.WithLabels(pipelineId, connector);
            _circuit.Set(0);
        }
    }

    public string PipelineId { get; }

    public string Connector { get; }

    public ConnectorKind Kind { get; }

    public BindingDirection Direction { get; }

    public ConnectionState Connection
    {
        get
        {
            lock (_gate) return _connection;
        }
    }

    public CircuitState Circuit
    {
        get
        {
            lock (_gate) return _circuitState;
        }
    }

    public long Delivered => Interlocked.Read(ref _deliveredCount);

    public long Failed => Interlocked.Read(ref _failedCount);

    public long Rejected => Interlocked.Read(ref _rejectedCount);

    public long DeadLettered => Interlocked.Read(ref _dlqCount);

    public string? LastError
    {
        get
        {
            lock (_gate) return _lastError;
        }
    }

    public static string DirectionName(BindingDirection d) => d == BindingDirection.Source ? "source" : "sink";

    public void SetConnection(ConnectionState state, string? error = null)
    {
        lock (_gate)
        {
            _connection = state;
            if (error is not null) _lastError = error;
        }
        _state.Set((int)state);
    }

    public void SetCircuit(CircuitState state)
    {
        lock (_gate) _circuitState = state;
        _circuit?.Set((int)state);
    }

    /// <summary>Events delivered (sinks) or journaled by the pipeline (sources).</summary>
    public void AddDelivered(long n)
    {
        if (n <= 0) return;
        Interlocked.Add(ref _deliveredCount, n);
        _delivered.Inc(n);
    }

    /// <summary>Events whose delivery failed (sinks); the error becomes <see cref="LastError"/>.</summary>
    public void AddFailed(long n, string error)
    {
        lock (_gate) _lastError = error;
        if (n <= 0) return;
        Interlocked.Add(ref _failedCount, n);
        _failed.Inc(n);
    }

    /// <summary>Messages that were no events, or events the pipeline's schemas rejected (sources).</summary>
    public void AddRejected(long n, string error)
    {
        lock (_gate) _lastError = error;
        if (n <= 0) return;
        Interlocked.Add(ref _rejectedCount, n);
        _rejected.Inc(n);
    }

    /// <summary>Events of this sink written to the dead-letter queue.</summary>
    public void AddDeadLettered(long n)
    {
        if (n <= 0) return;
        Interlocked.Add(ref _dlqCount, n);
        ConnectorMetrics.DlqEvents.WithLabels(PipelineId, Connector).Inc(n);
    }

    /// <summary>Removes this connector's labelled series (the pipeline stopped or moved away).</summary>
    public void Unpublish()
    {
        string dir = DirectionName(Direction);
        foreach (var outcome in new[] { "delivered", "failed", "rejected" }) ConnectorMetrics.Events.RemoveLabelled(PipelineId, Connector, dir, outcome);
        ConnectorMetrics.State.RemoveLabelled(PipelineId, Connector, dir);
        if (_circuit is not null) ConnectorMetrics.Circuit.RemoveLabelled(PipelineId, Connector);
    }

    public ConnectorStatus Snapshot()
    {
        lock (_gate)
        {
            return new ConnectorStatus(Connector, ConnectorSchema.NameOf(Kind), DirectionName(Direction), StateName(_connection),
                Direction == BindingDirection.Sink ? CircuitName(_circuitState) : null,
                Delivered, Failed, Rejected, DeadLettered, _lastError);
        }
    }

    public static string StateName(ConnectionState s) => s switch
    {
        ConnectionState.Connecting => "connecting",
        ConnectionState.Connected => "connected",
        ConnectionState.Reconnecting => "reconnecting",
        ConnectionState.Failed => "failed",
        _ => "stopped",
    };

    public static string CircuitName(CircuitState s) => s switch
    {
        CircuitState.Closed => "closed",
        CircuitState.Open => "open",
        _ => "half_open",
    };
}

/// <summary>The connector metrics of a node (runbook §6; labels <c>pipeline</c>, <c>connector</c>).</summary>
public static class ConnectorMetrics
{
    public static readonly Counter Events = Prometheus.Metrics.CreateCounter(
        "varpulis_connector_events_total", "Connector events by outcome: delivered (sinks delivered, sources journaled), failed (sink deliveries), rejected (source messages).",
        new CounterConfiguration { LabelNames = ["pipeline", "connector", "direction", "outcome"] });

    public static readonly Gauge State = Prometheus.Metrics.CreateGauge(
        "varpulis_connector_state", "Connection state: 0 connecting, 1 connected, 2 reconnecting, 3 failed, 4 stopped.",
        new GaugeConfiguration { LabelNames = ["pipeline", "connector", "direction"] });

    public static readonly Gauge Circuit = Prometheus.Metrics.CreateGauge(
        "varpulis_connector_circuit_state", "Sink circuit breaker: 0 closed, 1 open, 2 half_open.",
        new GaugeConfiguration { LabelNames = ["pipeline", "connector"] });

    public static readonly Counter DlqEvents = Prometheus.Metrics.CreateCounter(
        "varpulis_dlq_events_total", "Events written to the dead-letter queue.", new CounterConfiguration { LabelNames = ["pipeline", "connector"] });
}
