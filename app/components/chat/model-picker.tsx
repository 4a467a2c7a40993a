import { createContext, useContext, useId } from "react";

/** A model the server offers, as its loader lists it. */
export type ModelOption = { id: string; label: string; offline: boolean };

/** The models the server offers, for labelling answers by the model that wrote them. */
export const ModelOptionsContext = createContext<ModelOption[]>([]);

/**
 * The model the next message goes to: a native select, so the keyboard and
 * screen readers work as everywhere else. The list is the server's; the agent
 * refuses any other choice.
 */
export function ModelPicker({
  models,
  value,
  onChange,
  disabled,
}: {
  models: ModelOption[];
  value: string;
  onChange: (model: string) => void;
  disabled?: boolean;
}) {
  const id = useId();
  return (
    <div className="flex items-center gap-2 text-xs text-zinc-600 dark:text-zinc-400">
      <label htmlFor={id}>Model</label>
      <select
        id={id}
        data-testid="model-picker"
        value={value}
        disabled={disabled}
        onChange={(event) => onChange(event.target.value)}
        className="rounded-md border border-zinc-200 bg-white px-2 py-1 text-xs text-zinc-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 disabled:opacity-60 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-200"
      >
        {models.map((model) => (
          <option key={model.id} value={model.id}>
            {model.label}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Which model wrote an answer, by the label the server gives it (its id when the server no longer offers it). */
export function AnswerModel({ id }: { id: string }) {
  const models = useContext(ModelOptionsContext);
  const label = models.find((model) => model.id === id)?.label ?? id;
  return (
    <span
      data-testid="answer-model"
      title={id}
      className="rounded-full bg-zinc-100 px-2 py-0.5 font-medium text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300"
    >
      {label}
    </span>
  );
}

/** The picker's starting choice: the model of the chat's last answer while the server still offers it, else the default. */
export function initialModelChoice(
  models: ModelOption[],
  defaultModel: string,
  lastAnswerModel: string | undefined,
): string {
  return lastAnswerModel && models.some((model) => model.id === lastAnswerModel) ? lastAnswerModel : defaultModel;
}
