import type { ComponentChildren } from 'preact';

// The dashboard's tables, written once: a header row of column names, one row per item, and each
// cell labelled with its column's name (`data-label`), which the phone layout (below 720 px, in
// style.css) shows beside the value when the rows become cards. Numbers are right-aligned.

export interface Column<Row> {
  /** The column's name, shown in the header and beside the value on a phone. */
  readonly label: string;
  readonly cell: (row: Row) => ComponentChildren;
  /** A figure: right-aligned, in the header too. */
  readonly numeric?: boolean;
}

export function DataTable<Row>(props: {
  columns: readonly Column<Row>[];
  rows: readonly Row[];
  rowKey: (row: Row) => string;
  /** The table's class (what tests and styles find it by). */
  class?: string;
  rowClass?: string;
  /** Attributes of a row, such as `data-approval-id`. */
  rowAttributes?: (row: Row) => Record<string, string>;
}) {
  return (
    <div class="table-wrap">
      <table class={props.class}>
        <thead>
          <tr>
            {props.columns.map((column) => (
              <th key={column.label} scope="col" class={column.numeric ? 'num' : undefined}>
                {column.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr key={props.rowKey(row)} class={props.rowClass} {...(props.rowAttributes?.(row) ?? {})}>
              {props.columns.map((column) => (
                <td key={column.label} data-label={column.label} class={column.numeric ? 'num' : undefined}>
                  {column.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A labelled drop-down of fixed choices (a filter, a form's field). */
export function SelectField<Value extends string>(props: {
  label: ComponentChildren;
  name: string;
  value: Value;
  options: readonly { value: Value; label: string }[];
  onChange: (value: Value) => void;
}) {
  return (
    <label>
      {props.label}
      <select name={props.name} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value as Value)}>
        {props.options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </label>
  );
}
