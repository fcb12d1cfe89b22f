"use client";

import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { DailyPoint } from "@/server/domain/admin/dashboard";
import css from "./dashboard.module.css";

type Metric = "issued" | "validations" | "activations";

const shortDay = (day: string) =>
  new Date(`${day}T00:00:00Z`).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

/** One metric per UTC day as bars. */
export function DailyChart({ data, metric, color, label }: { data: DailyPoint[]; metric: Metric; color: string; label: string }) {
  const total = data.reduce((sum, p) => sum + p[metric], 0);
  return (
    <figure style={{ margin: 0 }} aria-label={`${label}: ${total.toLocaleString()} in ${data.length} days`}>
      <div className={css.chart}>
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={data} margin={{ top: 4, right: 4, bottom: 0, left: -16 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e4e4e7" />
            <XAxis dataKey="day" tickFormatter={shortDay} tick={{ fontSize: 11 }} interval="preserveStartEnd" minTickGap={24} />
            <YAxis allowDecimals={false} tick={{ fontSize: 11 }} width={48} />
            <Tooltip
              labelFormatter={(day) => shortDay(String(day))}
              formatter={(value) => [Number(value).toLocaleString(), label]}
            />
            <Bar dataKey={metric} fill={color} radius={[3, 3, 0, 0]} isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
      <figcaption className={css.chartNote}>
        {total.toLocaleString()} in the last {data.length} days
      </figcaption>
    </figure>
  );
}
