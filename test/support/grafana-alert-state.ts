/**
 * A double of Grafana's alert state manager: what Grafana does with a rule's evaluation results,
 * written from grafana/grafana (Grafana 12.x) and nothing else:
 *   - pkg/services/ngalert/state/manager.go: setNextStateForRule (all-NoData and all-Error results
 *     applied to every existing state of the rule through setNextStateForAll, for the states named
 *     there; else one state per result, keyed by its labels), processMissingSeriesStates and
 *     stateIsStale (a state missing from an evaluation resolves after missingSeriesEvalsToResolve
 *     intervals, after 1 for Error and NoData states);
 *   - pkg/services/ngalert/state/state.go: transition, resultNormal (Recovering while keep_firing_for
 *     runs), resultAlerting (Pending until `for` has passed since StartsAt, straight to Alerting when
 *     `for` is 0 or the state was Recovering), resultError (execErrState Alerting -> resultAlerting,
 *     Error -> SetError at once, OK -> resultNormal, KeepLast -> resultKeepLast), resultNoData (the same
 *     for noDataState), resultKeepLast (Alerting stays, Pending fires once `for` is over, Normal stays),
 *     NeedsSending (Pending is never sent; Normal only as a resolution);
 *   - pkg/services/ngalert/eval/eval.go: an evaluation error is one result without labels
 *     (NewResultFromError); a query without data gives one NoData result labelled datasource_uid and
 *     ref_id (evaluateExecutionResult);
 *   - pkg/services/ngalert/state/compat.go: an Error state reaches the Alertmanager as an alert named
 *     DatasourceError (errorAlert), a NoData state as DatasourceNoData;
 *   - state/state.go AddErrorInformation: with execErrState Error, an error of a query (expr.QueryError,
 *     which carries the query's refId) adds `ref_id` and `datasource_uid` labels to the Error state
 *     (annotations for the other mappings, not modelled: they are not sent as labels); transition
 *     removes them when the next result is not an error.
 * An empty result list is refused: Grafana's evaluator never returns one (eval.go
 * evaluateExecutionResult returns one NoData result when the condition has no frames), and
 * setNextStateForRule would take results[0] of it (Results.IsNoData is true for an empty list).
 * Not modelled (not used by the stack's rules): hysteresis, images, resend timing, the state history.
 */
export type ResultState = "Normal" | "Alerting" | "NoData" | "Error";
type StateName = ResultState | "Pending" | "Recovering";
export type Labels = Record<string, string>;

export interface RuleUnderTest {
  uid: string;
  name: string;
  /** Prometheus durations, as the provider takes them. */
  for: string;
  keepFiringFor?: string;
  noDataState: "OK" | "NoData" | "Alerting" | "KeepLast";
  execErrState: "OK" | "Error" | "Alerting" | "KeepLast";
  missingSeriesEvalsToResolve?: number;
  labels: Labels;
  intervalSeconds: number;
}

export interface EvalResult {
  state: ResultState;
  /** The result's labels (none for an error). */
  instance: Labels;
  /** For an error: the query that failed (expr.QueryError's refId) and its datasource. */
  failedQuery?: { refId: string; datasourceUid: string };
}

interface State {
  labels: Labels;
  state: StateName;
  startsAt: number;
  lastEvaluationTime: number;
}

/** An alert as the Alertmanager receives it: firing from `since`, with its alertname. */
export interface Notification {
  ruleUid: string;
  alertname: string;
  labels: Labels;
  at: number;
  resolved: boolean;
}

const key = (labels: Labels) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));

function ms(duration: string | undefined): number {
  if (!duration) return 0;
  let total = 0;
  for (const [, amount, unit] of duration.matchAll(/(\d+)(ms|y|w|d|h|m|s)/g)) {
    total += Number(amount) * { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8, y: 3.1536e10 }[unit as "ms"];
  }
  return total;
}

/** The states of one rule, evaluated result by result. */
export class RuleStates {
  private readonly states = new Map<string, State>();
  readonly notifications: Notification[] = [];

  constructor(readonly rule: RuleUnderTest) {}

  /** The states the Alertmanager currently sees as firing (NeedsSending: Pending and Normal are not sent). */
  firing(): { alertname: string; labels: Labels }[] {
    return [...this.states.values()].filter((s) => FIRING.has(s.state)).map((s) => ({ alertname: alertnameOf(this.rule, s.state), labels: s.labels }));
  }

  /** manager.go ProcessEvalResults: setNextStateForRule, then processMissingSeriesStates. */
  process(results: EvalResult[], now: number): void {
    const rule = this.rule;
    if (results.length === 0) throw new Error("Grafana's evaluator never returns an empty result list (eval.go evaluateExecutionResult)");
    const before = new Map([...this.states].map(([k, s]) => [k, s.state] as const));
    const all = (state: ResultState) => results.length > 0 && results.every((r) => r.state === state);
    let handled = false;
    if (all("NoData") && ["Alerting", "OK", "KeepLast"].includes(rule.noDataState)) handled = this.forAll(results[0], now);
    if (!handled && all("Error") && ["Alerting", "OK", "KeepLast"].includes(rule.execErrState)) handled = this.forAll(results[0], now);
    if (!handled) {
      for (const result of results) {
        // newState: the rule's labels over the result's; patch() keeps an existing state's fields.
        const labels = { ...result.instance, ...rule.labels };
        const existing = this.states.get(key(labels));
        const state = existing ?? { labels, state: "Normal" as StateName, startsAt: now, lastEvaluationTime: now };
        this.transition(state, result, now);
        this.states.set(key(labels), state);
      }
    }
    this.missingSeries(now);
    for (const [k, s] of this.states) this.notify(before.get(k), s, now);
    for (const [k, old] of before) if (!this.states.has(k) && FIRING.has(old)) this.notifications.push(this.note(old, JSON.parse(k), now, true));
  }

  private forAll(result: EvalResult, now: number): boolean {
    if (this.states.size === 0) return false;
    for (const state of this.states.values()) this.transition(state, result, now);
    return true;
  }

  /** state.go transition. */
  private transition(state: State, result: EvalResult, now: number): void {
    state.lastEvaluationTime = now;
    // state.go transition: the labels an Error state gained go when the result is not an error.
    if (state.state === "Error" && result.state !== "Error")
      for (const label of ["ref_id", "datasource_uid"]) if (!(label in result.instance)) delete state.labels[label];
    if (result.state === "Normal") this.resultNormal(state, now);
    else if (result.state === "Alerting") this.resultAlerting(state, now);
    else if (result.state === "Error") {
      this.resultMapped(state, this.rule.execErrState, "Error", now);
      // state.go resultError, ErrorErrState: AddErrorInformation(err, rule, true) labels the state with the failed query.
      if (this.rule.execErrState === "Error" && result.failedQuery)
        state.labels = { ...state.labels, ref_id: result.failedQuery.refId, datasource_uid: result.failedQuery.datasourceUid };
    } else this.resultMapped(state, this.rule.noDataState, "NoData", now);
  }

  private resultNormal(state: State, now: number): void {
    const keepFiringFor = ms(this.rule.keepFiringFor);
    if (state.state === "Normal") return;
    if (state.state === "Recovering") {
      if (now - state.startsAt >= keepFiringFor) set(state, "Normal", now);
    } else if (state.state === "Alerting" && keepFiringFor > 0) set(state, "Recovering", now);
    else set(state, "Normal", now);
  }

  private resultAlerting(state: State, now: number): void {
    const forMs = ms(this.rule.for);
    if (state.state === "Alerting") return;
    if (state.state === "Pending") {
      if (now - state.startsAt >= forMs) set(state, "Alerting", now);
    } else if (state.state !== "Recovering" && forMs > 0) set(state, "Pending", now);
    else set(state, "Alerting", now);
  }

  /** resultError / resultNoData: the rule's mapping of an Error or NoData result. */
  private resultMapped(state: State, mapping: string, own: "Error" | "NoData", now: number): void {
    if (mapping === "Alerting") this.resultAlerting(state, now);
    else if (mapping === "OK") this.resultNormal(state, now);
    else if (mapping === "KeepLast") this.resultKeepLast(state, now);
    else if (state.state !== own) set(state, own, now);
  }

  private resultKeepLast(state: State, now: number): void {
    if (state.state === "Alerting") this.resultAlerting(state, now);
    else if (state.state === "Pending") {
      if (now - state.startsAt >= ms(this.rule.for)) this.resultAlerting(state, now);
    } else this.resultNormal(state, now);
  }

  /** manager.go processMissingSeriesStates / stateIsStale. */
  private missingSeries(now: number): void {
    for (const [k, state] of this.states) {
      if (state.lastEvaluationTime === now) continue;
      const evals = state.state === "Error" || state.state === "NoData" ? 1 : (this.rule.missingSeriesEvalsToResolve ?? 2);
      if (now - state.lastEvaluationTime >= evals * this.rule.intervalSeconds * 1000) this.states.delete(k);
    }
  }

  private notify(old: StateName | undefined, state: State, now: number): void {
    const wasFiring = old !== undefined && FIRING.has(old);
    if (FIRING.has(state.state) && (!wasFiring || alertnameOf(this.rule, old!) !== alertnameOf(this.rule, state.state))) {
      if (wasFiring) this.notifications.push(this.note(old!, state.labels, now, true));
      this.notifications.push(this.note(state.state, state.labels, now, false));
    } else if (wasFiring && !FIRING.has(state.state)) this.notifications.push(this.note(old!, state.labels, now, true));
  }

  private note(state: StateName, labels: Labels, at: number, resolved: boolean): Notification {
    return { ruleUid: this.rule.uid, alertname: alertnameOf(this.rule, state), labels, at, resolved };
  }
}

/** States sent to the Alertmanager as firing alerts (state.go NeedsSending; compat.go StateToPostableAlert). */
const FIRING = new Set<StateName>(["Alerting", "Recovering", "Error", "NoData"]);

function alertnameOf(rule: RuleUnderTest, state: StateName): string {
  return state === "Error" ? "DatasourceError" : state === "NoData" ? "DatasourceNoData" : rule.name;
}

function set(state: State, name: StateName, now: number): void {
  state.state = name;
  state.startsAt = now;
}

/**
 * Grafana's scheduler evaluates each rule every `intervalSeconds`; `answer` says what the rule's
 * queries give at that moment. Returns every notification sent, in order.
 */
export function simulate(rules: RuleUnderTest[], answer: (rule: RuleUnderTest, now: number) => EvalResult[], untilSeconds: number): Notification[] {
  const machines = rules.map((rule) => new RuleStates(rule));
  const notifications: Notification[] = [];
  for (let now = 0; now <= untilSeconds * 1000; now += 10_000) {
    for (const machine of machines) {
      if (now % (machine.rule.intervalSeconds * 1000) !== 0) continue;
      const before = machine.notifications.length;
      machine.process(answer(machine.rule, now), now);
      notifications.push(...machine.notifications.slice(before));
    }
  }
  return notifications;
}

/** eval.go NewResultFromError: no labels; `failedQuery` when a datasource query failed (expr.QueryError). */
export const errorResult = (failedQuery?: EvalResult["failedQuery"]): EvalResult => ({ state: "Error", instance: {}, ...(failedQuery ? { failedQuery } : {}) });
/** eval.go: a datasource query without data labels the NoData result with the datasource and refId. */
export const noDataResult = (datasourceUid: string, refId = "A"): EvalResult => ({
  state: "NoData",
  instance: { datasource_uid: datasourceUid, ref_id: refId },
});
export const normalResult = (instance: Labels = {}): EvalResult => ({ state: "Normal", instance });
export const alertingResult = (instance: Labels = {}): EvalResult => ({ state: "Alerting", instance });
