import { describe, expect, it } from "vitest";
import { calculate, chatTools, currentTimeIn, ToolInputError } from "./tools";

describe("currentTimeIn", () => {
  const noon = new Date("2026-12-03T12:00:00Z");

  it("gives the wall-clock time and offset in an IANA time zone, without a network", () => {
    expect(currentTimeIn("Asia/Tokyo", noon)).toEqual({
      timeZone: "Asia/Tokyo",
      iso: "2026-12-03T12:00:00.000Z",
      local: "Thursday, 3 December 2026 at 21:00",
      utcOffset: "GMT+9",
    });
    expect(currentTimeIn("America/New_York", noon).local).toBe("Thursday, 3 December 2026 at 07:00");
    expect(currentTimeIn("UTC", noon).local).toBe("Thursday, 3 December 2026 at 12:00");
  });

  it("refuses a name that is not a time zone, in words the user can act on", () => {
    expect(() => currentTimeIn("Atlantis", noon)).toThrow(ToolInputError);
    expect(() => currentTimeIn("Atlantis", noon)).toThrow(
      '"Atlantis" is not a time zone. Use an IANA name such as "Asia/Tokyo" or "Europe/Paris".',
    );
  });
});

describe("calculate", () => {
  it("evaluates arithmetic exactly enough, and converts units", async () => {
    expect(await calculate("12 * (3 + 4)")).toEqual({ expression: "12 * (3 + 4)", result: "84" });
    expect((await calculate("0.1 + 0.2")).result).toBe("0.3");
    expect((await calculate("2 ^ 10")).result).toBe("1024");
    expect((await calculate("5 km to mile")).result).toBe("3.1068559611867 mile");
    expect((await calculate("  sqrt(16) ")).expression).toBe("sqrt(16)");
  });

  it.each([
    ["", "The expression is empty."],
    ["1 +", 'Could not calculate "1 +": Unexpected end of expression'],
    ["Tokyo", 'Could not calculate "Tokyo": Undefined symbol Tokyo'],
    ["[1, 2, 3]", "Matrices are not available in the calculator."],
    ["ones(100000, 100000)", "ones is not available in the calculator"],
    ['evaluate("1 + 1")', "evaluate is not available in the calculator"],
    ["import({}, {})", "import is not available in the calculator"],
    ['createUnit("foo")', "createUnit is not available in the calculator"],
    ["f(x) = x", '"f(x) = x" does not give a single value.'],
  ])("refuses %j with a clear sentence", async (expression, message) => {
    await expect(calculate(expression)).rejects.toThrow(ToolInputError);
    await expect(calculate(expression)).rejects.toThrow(message);
  });
});

describe("chatTools", () => {
  it("asks the user before calculating, and not before telling the time", () => {
    expect(chatTools.calculate.needsApproval).toBe(true);
    expect(chatTools.currentTime.needsApproval).toBeUndefined();
  });

  it("validates the model's input before running a tool", () => {
    expect(chatTools.calculate.inputSchema).toBeDefined();
    const schema = chatTools.calculate.inputSchema as unknown as {
      safeParse: (value: unknown) => { success: boolean };
    };
    expect(schema.safeParse({ expression: "1 + 1" }).success).toBe(true);
    expect(schema.safeParse({ expression: "1".repeat(201) }).success).toBe(false);
    expect(schema.safeParse({}).success).toBe(false);
  });
});
