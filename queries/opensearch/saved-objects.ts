import { DEFAULT_EVENTS_INDEX } from './index-template';

/**
 * OpenSearch Dashboards saved objects for operators (imported from `saved-objects.ndjson`, which is this module's
 * output: Dashboards Management > Saved objects > Import, or `POST api/saved_objects/_import`): the index pattern,
 * ops visualisations, a saved search of recent bounces and complaints, and a dashboard of them all.
 */
export interface SavedObject {
  type: 'index-pattern' | 'visualization' | 'search' | 'dashboard';
  id: string;
  attributes: Record<string, unknown>;
  references: { name: string; type: string; id: string }[];
}

const INDEX_PATTERN_ID = 'sesflow-events';
const INDEX_REF = 'kibanaSavedObjectMeta.searchSourceJSON.index';

function searchSource(query = ''): { searchSourceJSON: string } {
  return {
    searchSourceJSON: JSON.stringify({ query: { query, language: 'kuery' }, filter: [], indexRefName: INDEX_REF }),
  };
}

const indexRef = [{ name: INDEX_REF, type: 'index-pattern', id: INDEX_PATTERN_ID }];

type Agg = { id: string; type: string; schema: string; params: Record<string, unknown> };
const count: Agg = { id: '1', type: 'count', schema: 'metric', params: {} };

const terms = (id: string, field: string, schema: string, size: number, label?: string): Agg => ({
  id,
  type: 'terms',
  schema,
  params: {
    field,
    orderBy: '1',
    order: 'desc',
    size,
    otherBucket: false,
    missingBucket: false,
    ...(label ? { customLabel: label } : {}),
  },
});

function tableVis(id: string, title: string, description: string, query: string, aggs: Agg[]): SavedObject {
  return {
    type: 'visualization',
    id,
    attributes: {
      title,
      description,
      version: 1,
      uiStateJSON: '{}',
      visState: JSON.stringify({
        title,
        type: 'table',
        params: {
          perPage: 20,
          showPartialRows: false,
          showMetricsAtAllLevels: false,
          showTotal: true,
          totalFunc: 'sum',
        },
        aggs: [count, ...aggs].map((a) => ({ enabled: true, ...a })),
      }),
      kibanaSavedObjectMeta: searchSource(query),
    },
    references: indexRef,
  };
}

function eventsOverTime(): SavedObject {
  const title = 'SES events over time by type';
  return {
    type: 'visualization',
    id: 'sesflow-events-over-time',
    attributes: {
      title,
      description: 'Events per interval of event time (@timestamp), stacked by event type',
      version: 1,
      uiStateJSON: '{}',
      visState: JSON.stringify({
        title,
        type: 'histogram',
        params: {
          type: 'histogram',
          addTooltip: true,
          addLegend: true,
          legendPosition: 'right',
          times: [],
          addTimeMarker: false,
          grid: { categoryLines: false },
          categoryAxes: [
            {
              id: 'CategoryAxis-1',
              type: 'category',
              position: 'bottom',
              show: true,
              scale: { type: 'linear' },
              labels: { show: true, filter: true, truncate: 100 },
              title: {},
            },
          ],
          valueAxes: [
            {
              id: 'ValueAxis-1',
              name: 'LeftAxis-1',
              type: 'value',
              position: 'left',
              show: true,
              scale: { type: 'linear', mode: 'normal' },
              labels: { show: true, rotate: 0, filter: false, truncate: 100 },
              title: { text: 'Events' },
            },
          ],
          seriesParams: [
            {
              show: true,
              type: 'histogram',
              mode: 'stacked',
              data: { label: 'Events', id: '1' },
              valueAxis: 'ValueAxis-1',
              drawLinesBetweenPoints: true,
              showCircles: true,
            },
          ],
        },
        aggs: [
          { enabled: true, ...count },
          {
            enabled: true,
            id: '2',
            type: 'date_histogram',
            schema: 'segment',
            params: { field: '@timestamp', interval: 'auto', min_doc_count: 1, extended_bounds: {} },
          },
          { enabled: true, ...terms('3', 'event_type', 'group', 10) },
        ],
      }),
      kibanaSavedObjectMeta: searchSource(),
    },
    references: indexRef,
  };
}

function recentBouncesSearch(): SavedObject {
  return {
    type: 'search',
    id: 'sesflow-recent-bounces-complaints',
    attributes: {
      title: 'Recent bounces and complaints',
      description: 'Newest first; mailbox-simulator traffic left out',
      columns: [
        'tenant_id',
        'event_type',
        'recipient',
        'bounce_type',
        'bounce_subtype',
        'smtp_status',
        'diagnostic_code',
        'complaint_feedback_type',
        'campaign_id',
      ],
      sort: [['@timestamp', 'desc']],
      version: 1,
      kibanaSavedObjectMeta: searchSource('event_type:(bounce or complaint) and not is_simulator:true'),
    },
    references: indexRef,
  };
}

/** Every saved object, in import order (the index pattern first, the dashboard last). */
export function buildSavedObjects(indexPattern = `${DEFAULT_EVENTS_INDEX}*`): SavedObject[] {
  const indexPatternObject: SavedObject = {
    type: 'index-pattern',
    id: INDEX_PATTERN_ID,
    attributes: { title: indexPattern, timeFieldName: '@timestamp' },
    references: [],
  };
  const panels: SavedObject[] = [
    eventsOverTime(),
    tableVis(
      'sesflow-hard-bounces-by-tenant',
      'Hard bounces by tenant',
      'Permanent bounces that count toward the bounce rate (suppression-list bounces were never sent)',
      'event_type:bounce and counts_toward_bounce_rate:true',
      [terms('2', 'tenant_id', 'bucket', 50, 'Tenant')],
    ),
    tableVis(
      'sesflow-complaints-by-tenant',
      'Complaints by tenant and feedback type',
      'Complaints that count toward the complaint rate (not-spam and suppression-list complaints left out)',
      'event_type:complaint and counts_toward_complaint_rate:true',
      [
        terms('2', 'tenant_id', 'bucket', 50, 'Tenant'),
        terms('3', 'complaint_feedback_type', 'bucket', 10, 'Feedback'),
      ],
    ),
    tableVis(
      'sesflow-bounce-codes',
      'Top bounce status codes and diagnostics',
      'Bounces by type, enhanced status code and diagnostic text',
      'event_type:bounce',
      [
        terms('2', 'bounce_type', 'bucket', 5, 'Type'),
        terms('3', 'smtp_status', 'bucket', 10, 'Status'),
        terms('4', 'diagnostic_code.keyword', 'bucket', 5, 'Diagnostic'),
      ],
    ),
    tableVis(
      'sesflow-bounces-by-domain',
      'Bounces and complaints by recipient domain',
      'Where the trouble is: recipient domains with the most bounces and complaints',
      'event_type:(bounce or complaint) and not is_simulator:true',
      [terms('2', 'recipient_domain', 'bucket', 25, 'Domain'), terms('3', 'event_type', 'bucket', 2, 'Type')],
    ),
    tableVis(
      'sesflow-delivery-delays',
      'Delivery delays by type and domain',
      'DeliveryDelay events: why mail is waiting, and where',
      'event_type:delivery_delay',
      [terms('2', 'delay_type', 'bucket', 10, 'Delay type'), terms('3', 'recipient_domain', 'bucket', 10, 'Domain')],
    ),
    recentBouncesSearch(),
  ];
  const layout = [
    { x: 0, y: 0, w: 48, h: 14 },
    { x: 0, y: 14, w: 24, h: 15 },
    { x: 24, y: 14, w: 24, h: 15 },
    { x: 0, y: 29, w: 24, h: 15 },
    { x: 24, y: 29, w: 24, h: 15 },
    { x: 0, y: 44, w: 24, h: 15 },
    { x: 24, y: 44, w: 24, h: 15 },
  ];
  const dashboard: SavedObject = {
    type: 'dashboard',
    id: 'sesflow-ops',
    attributes: {
      title: 'sesflow: SES events (ops)',
      description:
        'Event volume by type, bounces and complaints by tenant, status codes, domains, delays, recent failures',
      version: 1,
      timeRestore: true,
      timeFrom: 'now-24h',
      timeTo: 'now',
      refreshInterval: { pause: false, value: 60_000 },
      optionsJSON: JSON.stringify({ hidePanelTitles: false, useMargins: true }),
      panelsJSON: JSON.stringify(
        panels.map((_, i) => ({
          panelIndex: String(i + 1),
          gridData: { ...layout[i]!, i: String(i + 1) },
          embeddableConfig: {},
          version: '2.11.0',
          panelRefName: `panel_${i}`,
        })),
      ),
      kibanaSavedObjectMeta: {
        searchSourceJSON: JSON.stringify({ query: { query: '', language: 'kuery' }, filter: [] }),
      },
    },
    references: panels.map((p, i) => ({ name: `panel_${i}`, type: p.type, id: p.id })),
  };
  return [indexPatternObject, ...panels, dashboard];
}

/** The objects as NDJSON, one per line, as Dashboards exports and imports them. */
export function savedObjectsNdjson(): string {
  return `${buildSavedObjects()
    .map((o) => JSON.stringify(o))
    .join('\n')}\n`;
}
