"""Demo employment help (就业帮扶云) in Nanshan and Futian, made through the real services so that the
worker's phone (求职档案, 推荐, 投递进度, 就业帮扶, 招聘会), a recruiter's phone (发布岗位, 求职者) and the
console (招聘方核验, 岗位审核, 帮扶台账, 招聘会) all have something to show, and every total is the
services' own. Built after the demo cases and legal files, before the rollups are rebuilt;
deterministic (fixed seed, dates relative to today).

- five people hiring for demo employers: four verified (a precision-manufacturing plant and a logistics
  company in 南山, a property-services company and a software company in 福田), one claim waiting;
- forty-one postings from the 2022 classification: posted by the recruiters and approved by the
  district union (four still waiting, one rejected for discriminatory wording, one closed as filled),
  or posted by district and city staff (canteen, property, shop, building site, two platforms);
- ten demo workers' seeker profiles in six help groups, eighteen applications at every step;
- six help requests at the district unions: two waiting, two in hand with services logged, one
  placed by a hire, one closed without a placement;
- an on-site fair in 南山 next week (booths, registrations) and an online fair in 福田 last week
  with its results (a check-in, applications made at the fair, a hire).
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from gonghui.accounts.models import User
from gonghui.membership.models import Member
from gonghui.orgs.demo import DemoLogin
from gonghui.orgs.models import Division, Employer

from . import services
from .models import (
    ApplicationEvent,
    ApplicationStatus,
    FairRegistration,
    HelpRequest,
    JobApplication,
    JobFair,
    JobPosting,
    PostingStatus,
    Recruiter,
    SeekerProfile,
)

MAIN_WORKER_PHONE = "13800138000"  # demo-worker-001, the member of README's phone demo
RECRUITER_PHONE = "13800138100"  # demo-recruiter-1: hires for the Nanshan plant

# --- Who hires ------------------------------------------------------------------------------------
# Employers are picked from the demo layer by county, a word of their name and a minimum size (the
# first by id), so the choice follows the seeded employer list. key: (county, name word, minimum size)
EMPLOYERS = {
    "plant": ("440305", "精密制造", 800),
    "logistics": ("440305", "物流", 800),
    "property": ("440304", "物业服务", 300),
    "software": ("440304", "科技", 120),  # not 环保科技: see _employer
    "canteen": ("440305", "餐饮管理", 120),
    "estate": ("440305", "物业服务", 120),
    "shop": ("440305", "商贸", 300),
    "builder": ("440305", "建筑工程", 120),
    "futian_shop": ("440304", "商贸", 120),
    "futian_food": ("440304", "餐饮管理", 120),
    "pharma": ("440305", "医药", 120),
}
PLATFORMS = {"rider": "深圳鹏城优送网络科技有限公司", "ride": "深圳粤行出行科技有限公司"}
# (username, phone, name, title, employer key; verified or still waiting for the district union)
RECRUITERS = [
    ("demo-recruiter-1", RECRUITER_PHONE, "陈嘉欣", "人事主管", "plant", True),
    ("demo-recruiter-2", "13800138101", "黄志明", "人事经理", "logistics", True),
    ("demo-recruiter-3", "13800138102", "李婷", "招聘专员", "property", True),
    ("demo-recruiter-4", "13800138103", "周俊", "人力资源经理", "software", True),
    ("demo-recruiter-5", "13800138104", "吴小红", "行政人事专员", "pharma", False),
]

# --- Postings -------------------------------------------------------------------------------------
# (key, employer key, title, occupation, place ("" = the employer's street), salary min, max, headcount,
#  education, years, skills, benefits, description)
POSTINGS = [
    ("smt", "plant", "电子装接操作员", "6-25-04-07", "", 6000, 8000, 20, "junior", 0, ["焊锡", "看图纸", "5S"],
     ["五险一金", "包吃住", "加班补贴", "全勤奖"],
     "负责电子产品插件、焊接和组装，两班倒，有无经验均可，入职带薪培训一周。"),
    ("iqc", "plant", "来料质检员（IQC）", "6-31-03-05", "", 5500, 7000, 4, "senior", 1,
     ["卡尺千分尺", "来料检验", "Excel"], ["五险一金", "包吃住", "年终奖"],
     "按图纸和检验标准对来料进行抽检，填写检验记录，发现异常及时反馈给采购和供应商。"),
    ("welder", "plant", "氩弧焊工", "6-18-02-04", "", 8000, 11000, 5, "junior", 2, ["焊工证", "氩弧焊", "看图纸"],
     ["五险一金", "包住", "餐补", "技能补贴"], "负责不锈钢和铝合金结构件的氩弧焊接，持有效焊工证，能看懂简单图纸。"),
    ("plant_electrician", "plant", "设备维修电工", "6-31-01-03", "", 7500, 10000, 2, "senior", 3,
     ["低压电工证", "PLC", "设备维护"], ["五险一金", "包住", "年终奖", "定期体检"],
     "负责车间设备和配电系统的日常巡检、维修保养，持低压电工作业证，懂PLC者优先。"),
    ("cnc", "plant", "CNC数控操作员", "6-18-01-07", "440305009", 7000, 9500, 6, "junior", 1,
     ["数控车床", "看图纸", "卡尺千分尺"], ["五险一金", "包吃住", "加班补贴"],
     "西丽二厂区：负责数控机床上下料、对刀和首件检验，有CNC操作经验者优先。"),
    ("fitter", "plant", "机修钳工", "6-31-01-02", "440305009", 7500, 10000, 2, "senior", 3,
     ["机械装配", "设备维护", "看图纸"], ["五险一金", "包住", "年终奖"],
     "西丽二厂区：负责冲压、注塑设备的机械维修和保养，能独立排除常见故障。"),
    ("packer", "plant", "包装工", "6-31-05-00", "", 4800, 6000, 10, "none", 0, ["打包", "清点"],
     ["包吃住", "五险一金"], "负责成品清点、装箱、贴标和入库，长白班，适合无经验人员。"),
    ("hardware", "plant", "智能硬件装调员", "6-25-04-05", "", 6500, 8500, 3, "associate", 1, ["电子装配", "调试", "万用表"],
     ["五险一金", "包住", "技能补贴"], "负责智能门锁、扫地机器人样机的装配和功能调试，记录测试数据。"),
    ("general", "plant", "普工", "6-25-04-06", "", 5000, 6500, 30, "none", 0, ["吃苦耐劳"], ["包吃住"],
     "限男性，18至30岁，身体健康，能适应两班倒和加班。"),
    ("courier_nantou", "logistics", "快递员（南头站）", "4-02-07-08", "440305001", 7000, 11000, 8, "none", 0,
     ["电动车驾驶", "智能手机操作", "熟悉南山路线"], ["五险一金", "包住", "交通补贴", "多劳多得"],
     "负责南头片区快件收派，底薪加计件提成，公司提供电动车，新人有师傅带一周。"),
    ("courier_xili", "logistics", "快递员（西丽站）", "4-02-07-08", "440305009", 7000, 10500, 6, "none", 0,
     ["电动车驾驶", "智能手机操作"], ["五险一金", "包住", "交通补贴"],
     "负责西丽大学城及周边园区快件收派，片区固定，单量稳定。"),
    ("warehouse", "logistics", "仓储管理员", "4-02-06-01", "", 5500, 7500, 2, "senior", 2, ["WMS系统", "Excel", "盘点"],
     ["五险一金", "餐补", "年终奖", "双休"], "负责仓库出入库、盘点和库存账务，熟练使用WMS系统和Excel，有电子料仓经验优先。"),
    ("forklift", "logistics", "叉车司机", "6-30-05-01", "", 6500, 8500, 4, "junior", 1, ["叉车证", "装卸"],
     ["五险一金", "包住", "加班补贴"], "持有效叉车作业证（N1），负责仓库货物装卸、搬运和堆码，安全意识强。"),
    ("loader", "logistics", "装卸搬运工", "4-02-05-01", "", 6000, 9000, 10, "none", 0, ["装卸"],
     ["包吃住", "夜班补贴"], "负责干线车辆到货装卸，按件计酬，多劳多得，夜班另有补贴。"),
    ("truck", "logistics", "城配货车司机（4.2米）", "4-02-02-02", "", 8000, 11000, 3, "junior", 3,
     ["C1驾照", "熟悉深圳路况"], ["五险一金", "包住", "出车补贴"],
     "驾驶4.2米厢式货车，负责深圳市内门店配送，C1驾照三年以上驾龄，无重大事故记录。"),
    ("sorter", "logistics", "快件分拣员", "4-02-07-02", "", 5000, 6500, 15, "none", 0, ["扫码枪", "分拣"],
     ["包吃住", "五险一金", "夜班补贴"], "在分拨中心按流向分拣快件，夜班为主，长期工、临时工均可。"),
    ("tally", "logistics", "理货员", "4-02-06-02", "", 5000, 6500, 4, "junior", 0, ["扫码枪", "盘点"],
     ["五险一金", "包住"], "负责到货清点、贴标上架和发货复核，适应早晚轮班。"),
    ("guard", "property", "保安员", "4-07-05-01", "", 4800, 5800, 6, "junior", 0, ["保安员证", "消防设施操作"],
     ["五险一金", "包住", "餐补"], "负责小区门岗值守、巡逻和访客登记，持保安员证优先，退役军人优先。"),
    ("cleaner_futian", "property", "保洁员", "4-09-08-01", "", 4500, 5200, 8, "none", 0, ["保洁", "健康证"],
     ["五险", "餐补", "节日福利"], "负责写字楼公共区域清洁，早班7:00至15:00，工作稳定。"),
    ("estate_electrician", "property", "物业维修电工", "6-31-01-03", "", 6500, 8000, 2, "senior", 2,
     ["低压电工证", "水电维修"], ["五险一金", "包住", "年终奖"], "负责小区供配电、给排水设施的日常维修和巡检，持低压电工作业证。"),
    ("housekeeper", "property", "家政服务员", "4-10-01-06", "", 5500, 8000, 10, "junior", 1, ["健康证", "家务整理", "烹饪"],
     ["五险", "免费培训", "订单补贴"], "为福田片区家庭提供日常保洁、做饭和收纳服务，公司统一培训、派单，时间较灵活。"),
    ("nursery", "property", "托育中心保育员", "4-10-01-03", "440304007", 5000, 6500, 3, "senior", 1,
     ["保育师证", "健康证", "幼儿照护"], ["五险一金", "餐补", "带薪年假"],
     "在梅林社区托育中心负责2至3岁幼儿的生活照料和卫生保健，持保育师或育婴员证书。"),
    ("parking", "property", "停车场管理员", "4-06-01-03", "", 4600, 5500, 2, "junior", 0, ["收费系统操作"],
     ["五险", "包住"], "负责地下停车场车辆疏导、收费和巡查，三班倒。"),
    ("tester", "software", "软件测试工程师", "4-04-05-02", "", 9000, 15000, 3, "bachelor", 0,
     ["Python", "自动化测试", "Linux", "SQL"], ["五险一金", "双休", "带薪年假", "年终奖"],
     "负责Web和App的功能测试、接口测试，编写测试用例和自动化脚本，欢迎应届毕业生。"),
    ("callcenter", "software", "客服专员", "4-04-05-03", "", 5500, 7500, 8, "associate", 0, ["普通话", "打字", "Office"],
     ["五险一金", "双休", "餐补"], "通过电话和在线渠道解答客户问题、处理售后工单，普通话标准，打字每分钟50字以上。"),
    ("java", "software", "Java开发工程师", "4-04-05-01", "", 12000, 15000, 2, "bachelor", 3,
     ["Java", "Spring Boot", "MySQL"], ["五险一金", "双休", "年终奖", "股票期权"],
     "参与SaaS平台后端开发，三年以上Java开发经验，熟悉Spring Boot和MySQL调优。"),
    ("success", "software", "客户成功专员", "4-07-02-03", "", 7000, 10000, 2, "bachelor", 1, ["客户沟通", "Excel"],
     ["五险一金", "双休", "季度奖金"], "负责企业客户的上线培训、使用回访和续约，沟通能力强。"),
    ("ai_trainer", "software", "人工智能训练师", "4-04-05-05", "", 6500, 9000, 5, "associate", 0, ["数据标注", "Office"],
     ["五险一金", "双休"], "对语音和文本数据进行标注、质检，参与客服机器人问答库的训练和优化。"),
    ("cook", "canteen", "中式厨师", "4-03-02-01", "", 7000, 10000, 2, "junior", 3, ["健康证", "粤菜", "厨师证"],
     ["包吃住", "五险一金"], "负责园区员工食堂的粤菜、家常菜制作，三年以上大锅菜经验。"),
    ("waiter", "canteen", "餐厅服务员", "4-03-02-05", "", 4800, 5800, 6, "none", 0, ["健康证", "普通话"],
     ["包吃住", "五险"], "负责餐厅点餐、传菜和收台，做六休一，月休四天。"),
    ("cleaner_nanshan", "estate", "保洁员", "4-09-08-01", "", 4500, 5000, 6, "none", 0, ["保洁", "健康证"],
     ["五险", "包住", "餐补"], "负责住宅小区楼道和公共区域清洁，离南山地铁站近。"),
    ("carer", "estate", "养老护理员", "4-10-01-05", "", 5500, 7000, 4, "junior", 1, ["养老护理员证", "健康证"],
     ["五险一金", "包吃住"], "在社区长者服务中心负责老人生活照料、助餐助浴，持养老护理员证优先，可免费培训取证。"),
    ("maid", "estate", "钟点家政服务员", "4-10-01-06", "", 6000, 9000, 8, "junior", 1, ["健康证", "家务整理"],
     ["免费培训", "订单补贴"], "为南山片区家庭提供钟点保洁和收纳服务，按单结算，时间自由。"),
    ("cashier", "shop", "超市收银员", "4-01-02-04", "", 4800, 5600, 4, "junior", 0, ["收银", "普通话"],
     ["五险", "餐补", "全勤奖"], "负责超市收银、会员办理和货架整理，早晚两班轮换。"),
    ("steel_welder", "builder", "钢结构焊工", "6-18-02-04", "", 9000, 13000, 6, "junior", 3, ["焊工证", "二保焊", "高空作业"],
     ["五险一金", "包吃住", "工程奖金"], "负责钢结构厂房焊接施工，持特种作业焊工证，能高空作业。"),
    ("site_electrician", "builder", "建筑电工", "6-31-01-03", "", 8000, 11000, 3, "junior", 2, ["低压电工证", "临时用电"],
     ["五险一金", "包吃住"], "负责施工现场临时用电的安装、维护和检查，持建筑电工或低压电工证。"),
    ("cashier_futian", "futian_shop", "门店收银员", "4-01-02-04", "", 4800, 5600, 3, "junior", 0, ["收银", "普通话"],
     ["五险", "餐补"], "负责便利店收银和商品陈列，离地铁站步行五分钟。"),
    ("pastry", "futian_food", "中式面点师", "4-03-02-02", "", 6000, 8000, 2, "junior", 2, ["健康证", "面点制作"],
     ["包吃住", "五险一金"], "负责包点、肠粉等早茶面点制作，凌晨五点上班，下午两点下班。"),
    ("rider_yuehai", "rider", "网约配送员（粤海）", "4-10-08-01", "440305007", 7000, 12000, 30, "none", 0,
     ["电动车驾驶", "智能手机操作"], ["社保", "职业伤害保障", "雨天补贴"],
     "科技园片区专送骑手，签订劳动合同并缴纳社保，保底加单价，站点提供充电换电。"),
    ("rider_huaqiang", "rider", "网约配送员（华强北）", "4-10-08-01", "440304011", 7000, 11000, 20, "none", 0,
     ["电动车驾驶", "智能手机操作"], ["社保", "职业伤害保障", "雨天补贴"], "华强北片区专送骑手，午晚高峰有冲单奖励。"),
    ("ride_hailing", "ride", "网约车司机", "4-02-02-01", "440304011", 8000, 13000, 50, "junior", 3,
     ["C1驾照", "网约车驾驶员证"], ["车辆租金优惠", "意外险", "时间弹性"],
     "驾驶平台新能源车辆，需三年以上驾龄并持网约车驾驶员证，公司协助办证。"),
]
PENDING = {"hardware", "tally", "parking", "ai_trainer"}
REJECTED = {"general": "岗位描述中“限男性、18至30岁”属于性别和年龄歧视性要求，请删除后重新提交。"}
CLOSED = {"packer": "已招满"}
ONLINE_FAIR_BOOTHS = {"software": ["tester", "callcenter", "java"], "property": ["housekeeper", "nursery", "guard"],
                      "ride": ["ride_hailing"]}
ONSITE_FAIR_BOOTHS = {"plant": ["smt", "iqc", "welder", "plant_electrician"],
                      "logistics": ["courier_nantou", "warehouse", "forklift", "sorter"],
                      "canteen": ["cook", "waiter"], "estate": ["cleaner_nanshan", "carer", "maid"]}
ONLINE_FAIR_DAYS_AGO = 6

# --- Seekers: demo-worker-NNN → profile -----------------------------------------------------------
SEEKERS = {
    1: {"occupations": ["4-02-06-01", "4-02-07-08", "6-25-04-07"], "places": ["440305001", "440305"],
        "education": "senior", "experience_years": 6, "salary_expected": 6500, "help_group": "between_jobs",
        "skills": ["WMS系统", "Excel", "盘点", "电动车驾驶"],
        "about": "在电子厂做过六年仓管和物料员，工厂减产待岗，想在南山找仓管或快递的工作，能上夜班。"},
    14: {"occupations": ["6-18-02-04", "6-31-01-03"], "places": ["440305009", "440305"], "education": "junior",
         "experience_years": 8, "salary_expected": 9000, "help_group": "migrant",
         "skills": ["焊工证", "氩弧焊", "二保焊", "低压电工证"], "about": "湖南来深务工八年，持焊工证和低压电工证。"},
    15: {"occupations": ["6-30-05-01", "4-02-06-01", "4-02-05-01"], "places": ["440305008", "440305003", "440305"],
         "education": "junior", "experience_years": 5, "salary_expected": 7000, "help_group": "jobless",
         "skills": ["叉车证", "装卸", "盘点"], "about": "原物流公司叉车司机，公司搬迁后失业，已办理失业登记。"},
    16: {"occupations": ["4-04-05-02", "4-04-05-01"], "places": ["440304", "440305007"], "education": "bachelor",
         "experience_years": 0, "salary_expected": 9000, "help_group": "graduate",
         "skills": ["Python", "自动化测试", "Linux", "SQL"],
         "about": "计算机科学与技术专业应届本科毕业生，做过一学期测试实习，熟悉Python和接口测试。"},
    17: {"occupations": ["4-10-08-01", "4-02-07-08"], "places": ["440305", "440304"], "education": "junior",
         "experience_years": 3, "salary_expected": 8000, "help_group": "flexible",
         "skills": ["电动车驾驶", "智能手机操作", "熟悉南山路线"], "about": "跑了三年外卖，想找一份有社保的配送工作。"},
    18: {"occupations": ["4-10-01-03", "4-10-01-06"], "places": ["440304007", "440304"], "education": "senior",
         "experience_years": 4, "salary_expected": 5500, "help_group": "hardship",
         "skills": ["保育师证", "健康证", "幼儿照护", "烹饪"],
         "about": "持保育师证，爱人长期患病，希望在梅林附近找时间相对固定的保育或家政工作。"},
    19: {"occupations": ["4-04-05-03", "4-07-02-03"], "places": ["440304011", "440304"], "education": "associate",
         "experience_years": 0, "salary_expected": 6000, "help_group": "graduate", "skills": ["普通话", "打字", "Office"],
         "about": "市场营销专业大专应届毕业生，普通话二级甲等。"},
    20: {"occupations": ["6-25-04-07", "6-31-03-05"], "places": ["440305009", "440305001"], "education": "junior",
         "experience_years": 2, "salary_expected": 6000, "help_group": "migrant", "skills": ["焊锡", "看图纸", "5S"],
         "about": "在东莞电子厂做过两年插件和焊锡，想到南山找电子厂的工作。"},
    21: {"occupations": ["4-02-02-01"], "places": ["440304", "440305"], "education": "senior", "experience_years": 6,
         "salary_expected": 9000, "help_group": "flexible", "skills": ["C1驾照", "网约车驾驶员证"],
         "visible_to_employers": False, "about": "开了六年网约车，想找收入稳定些的司机工作。"},
    22: {"occupations": ["4-09-08-01", "4-10-01-06"], "places": ["440305002", "440305"], "education": "junior",
         "experience_years": 10, "salary_expected": 5000, "help_group": "jobless", "skills": ["保洁", "健康证", "家务整理"],
         "about": "原酒店客房保洁，酒店停业后失业，希望在南山街道附近找保洁或家政工作。"},
}


@dataclass
class Staff:
    county: User  # 南山区总工会 (moderates Nanshan postings, runs the Nanshan help ledger and fair)
    futian: User  # 福田区总工会
    city: User  # 深圳市总工会 (the platform companies' unions are under the city)


def _employer(county: str, word: str, size: int, taken: set[int]) -> Employer:
    qs = (Employer.objects.filter(division__code__startswith=county, name__contains=word, employee_count__gte=size,
                                  is_platform=False).exclude(pk__in=taken).order_by("id"))
    if word == "科技":
        qs = qs.exclude(name__contains="环保科技")
    employer = qs.select_related("org").first()
    if employer is None:
        raise RuntimeError(f"演示数据缺少{county}的“{word}”单位")
    taken.add(employer.pk)
    return employer


def _address(employer: Employer, place: str) -> str:
    """The employer's address at its own street; elsewhere (a second site, a platform's station) the street."""
    if (not place or place == employer.division_id) and not employer.is_platform:
        return employer.address
    street = Division.objects.select_related("parent").get(code=place or employer.division_id)
    return f"{street.parent.name}{street.name}（具体站点面试时告知）"


def _worker(number: int) -> User:
    return User.objects.get(username=f"demo-worker-{number:03d}")


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _published_ago(posting: JobPosting, days: float) -> None:
    """The services stamp a posting with the moment it is made and moderated; the demo spreads the
    postings over the last weeks (the list's order and the match's freshness show it). This moves
    only the posting's own timestamps back (created, moderated, published), never its status: the
    status, the totals and the audit are the services' own."""
    delta = datetime.timedelta(days=days)
    JobPosting.objects.filter(pk=posting.pk).update(created_at=F("created_at") - delta,
                                                    moderated_at=F("moderated_at") - delta,
                                                    published_at=F("published_at") - delta)


def _fair_held_back(fair: JobFair, delta: datetime.timedelta) -> None:
    """The fair services take only fairs that have not ended (booths, registration, check-in), so the
    past online fair is run now, as it was then, and its times are moved back afterwards: the fair's,
    its registrations' and check-in's, and those of the applications made at it and their steps.
    Statuses and totals are untouched."""
    JobFair.objects.filter(pk=fair.pk).update(starts_at=F("starts_at") - delta, ends_at=F("ends_at") - delta,
                                              created_at=F("created_at") - delta)
    FairRegistration.objects.filter(fair=fair).update(created_at=F("created_at") - delta,
                                                      checked_in_at=F("checked_in_at") - delta)
    JobApplication.objects.filter(fair=fair).update(created_at=F("created_at") - delta,
                                                    interview_at=F("interview_at") - delta,
                                                    hired_at=F("hired_at") - delta)
    ApplicationEvent.objects.filter(application__fair=fair).update(created_at=F("created_at") - delta)


def seed_employment(*, county: User, futian: User, city: User, rng: random.Random | None = None) -> dict:
    """county: 南山区's admin; futian: 福田区's; city: 深圳市's (over the platform companies' unions)."""
    rng = rng or random.Random(2026)
    staff = Staff(county=county, futian=futian, city=city)
    with transaction.atomic():
        employers = _employers()
        recruiters = _recruiters(staff, employers)
        postings = _postings(staff, employers, recruiters, rng)
        for number, data in SEEKERS.items():
            services.seeker_save(actor=_worker(number), data={"visible_to_employers": True, **data})
        helps = _help_requests(staff, postings)
        _applications(staff, recruiters, postings)
        _onsite_fair(staff, employers, postings)
        _online_fair(staff, employers, postings, recruiters)
        # The ride-hailing driver went home: the help request ends without a placement, the search pauses.
        services.help_close(actor=futian, request=helps[21], placed=False,
                            reason="本人因家中老人生病返回老家照顾，暂不在深圳求职，帮扶结束；返深后可重新申请。")
        services.seeker_save(actor=_worker(21), data={**SEEKERS[21], "status": SeekerProfile.Status.PAUSED})
        services.posting_close(actor=recruiters["plant"], posting=postings["packer"], reason=CLOSED["packer"])
    main = _worker(1)
    plant = employers["plant"]
    logins = [
        DemoLogin(MAIN_WORKER_PHONE, f"{main.display_name}：求职档案、岗位推荐、投递进度、就业帮扶、招聘会报名",
                  "职工·手机号+短信验证码"),
        DemoLogin(RECRUITER_PHONE, f"{plant.name}：发布岗位、审核结果、求职者", "招聘方·手机号+短信验证码"),
    ]
    return {
        "postings": JobPosting.objects.count(),
        "live": JobPosting.objects.filter(status=PostingStatus.LIVE).count(),
        "recruiters": Recruiter.objects.count(),
        "seekers": SeekerProfile.objects.count(),
        "applications": JobApplication.objects.count(),
        "help": HelpRequest.objects.count(),
        "fairs": JobFair.objects.count(),
        "logins": logins,
    }


def _employers() -> dict[str, Employer]:
    # The main worker's own employer is not one she applies to.
    taken = set(Employer.objects.filter(org_id__in=Member.objects.filter(user__username="demo-worker-001")
                                        .values("org_id")).values_list("pk", flat=True))
    employers = {key: _employer(county, word, size, taken) for key, (county, word, size) in EMPLOYERS.items()}
    for key, name in PLATFORMS.items():
        employers[key] = Employer.objects.select_related("org").get(name=name)
    return employers


def _recruiters(staff: Staff, employers: dict[str, Employer]) -> dict[str, User]:
    """People who hire, signing in by phone like any worker: four verified by the district union
    over their employer, one claim waiting in 南山's console."""
    verified = {}
    for username, phone, name, title, key, verify in RECRUITERS:
        user = User(username=username, kind=User.Kind.WORKER, display_name=name)
        user.set_phone(phone)
        user.set_unusable_password()
        user.save()
        claim = services.recruiter_claim(actor=user, uscc=employers[key].uscc, name=name, title=title)
        if verify:
            moderator = staff.county if employers[key].division_id.startswith("440305") else staff.futian
            services.recruiter_decide(actor=moderator, recruiter=claim, approve=True)
            verified[key] = user
    return verified


def _postings(staff: Staff, employers: dict[str, Employer], recruiters: dict[str, User],
              rng: random.Random) -> dict[str, JobPosting]:
    today = timezone.localdate()
    online_fair = {key for keys in ONLINE_FAIR_BOOTHS.values() for key in keys}
    contacts = iter(f"13800138{n}" for n in range(200, 300))
    postings = {}
    for (key, owner, title, occupation, place, low, high, headcount, education, years, skills, benefits,
         description) in POSTINGS:
        employer = employers[owner]
        recruiter = recruiters.get(owner)
        if key in PENDING:
            age = rng.uniform(0.1, 2)
        elif key in REJECTED:
            age = rng.uniform(2, 4)
        elif key in online_fair:  # up before last week's online fair
            age = rng.uniform(ONLINE_FAIR_DAYS_AGO + 2, 30)
        else:
            age = rng.uniform(0.2, 35)
        expires = max(today - datetime.timedelta(days=int(age)) + datetime.timedelta(days=rng.choice([45, 60, 90])),
                      today + datetime.timedelta(days=7))
        if recruiter is not None:
            actor, contact, phone = recruiter, recruiter.display_name, recruiter.phone
        else:
            actor = staff.city if employer.is_platform else (
                staff.county if employer.division_id.startswith("440305") else staff.futian)
            contact, phone = rng.choice(["王经理", "刘主管", "张小姐", "陈先生", "林经理"]), next(contacts)
        posting = services.posting_create(actor=actor, employer_id=employer.pk, data={
            "title": title, "occupation": occupation, "division_code": place or employer.division_id,
            "salary_min": low, "salary_max": high, "headcount": headcount, "education": education,
            "experience_years": years, "skills": skills, "benefits": benefits, "description": description,
            "address": _address(employer, place),
            "contact_name": contact, "contact_phone": phone, "expires_on": expires.isoformat()})
        if recruiter is not None and key not in PENDING:
            moderator = staff.county if employer.division_id.startswith("440305") else staff.futian
            posting = services.posting_moderate(actor=moderator, posting=posting, approve=key not in REJECTED,
                                                reason=REJECTED.get(key, ""))
        _published_ago(posting, age)
        postings[key] = JobPosting.objects.select_related("employer", "org").get(pk=posting.pk)
    return postings


def _help_requests(staff: Staff, postings: dict[str, JobPosting]) -> dict[int, HelpRequest]:
    """Six requests at the district unions (the ledger 帮扶台账): 南山区 holds the main worker's (in
    hand, with each kind of service), one waiting and one that the rider's hire will place; 福田区 one
    in hand, one waiting and one to be closed without a placement."""
    asks = [
        (1, "440305", "between_jobs", "工厂减产，我已待岗三个月，想尽快找到仓管或快递类工作，也想了解待岗期间的生活补助和技能培训政策。"),
        (22, "440305", "jobless", "酒店停业后失业两个月，想找保洁或家政工作，最好在南山街道附近，请帮忙推荐岗位。"),
        (17, "440305", "flexible", "跑外卖收入不稳定，也没有社保，想找一份签劳动合同、交社保的配送工作。"),
        (18, "440304", "hardship", "爱人生病需要照顾，希望找一份离家近、时间相对固定的保育或家政工作，并了解困难职工帮扶政策。"),
        (16, "440304", "graduate", "应届本科毕业生，想找软件测试方向的工作，希望得到简历修改和面试辅导。"),
        (21, "440304", "flexible", "想从网约车转到企业班车或公交司机，收入稳定一些。"),
    ]
    helps = {n: services.help_request_submit(actor=_worker(n), division_code=place, help_group=group, needs=needs)
             for n, place, group, needs in asks}
    county, futian = staff.county, staff.futian
    services.help_assign(actor=county, request=helps[1], staff=county)
    for kind, note, posting in [
        ("policy", "讲解失业保险金和待岗职工生活补助的申领条件，指导在“深圳人社”小程序上办理。", None),
        ("guidance", "一对一职业指导：结合六年仓管经验，建议优先应聘仓储管理员，并完善求职档案中的技能。", None),
        ("referral", "推荐仓储管理员岗位，已向企业人事说明求职者情况，企业同意安排面试。", postings["warehouse"]),
        ("training", "报名区总工会“仓储管理与叉车作业”免费技能培训班，下月开班，结业可考叉车证。", None),
    ]:
        services.help_service_log(actor=county, request=helps[1], kind=kind, note=note,
                                  posting_id=posting.pk if posting else None)
    services.help_assign(actor=county, request=helps[17], staff=county)
    services.help_service_log(actor=county, request=helps[17], kind="guidance",
                              note="讲解灵活就业与签订劳动合同的区别，建议选择缴纳社保和职业伤害保障的专送岗位。")
    services.help_service_log(actor=county, request=helps[17], kind="referral", posting_id=postings["rider_yuehai"].pk,
                              note="推荐粤海片区专送骑手岗位，平台签订劳动合同并缴纳社保。")
    services.help_assign(actor=futian, request=helps[18], staff=futian)
    services.help_service_log(actor=futian, request=helps[18], kind="policy",
                              note="讲解困难职工帮扶政策，协助申请困难职工家庭生活救助和子女助学金。")
    services.help_service_log(actor=futian, request=helps[18], kind="training",
                              note="推荐参加区总工会保育师技能提升培训（免费，培训期间给予交通补贴）。")
    services.help_service_log(actor=futian, request=helps[21], kind="guidance",
                              note="介绍企业班车和公交司机的招聘渠道，需A1、A3驾照的岗位建议先参加增驾培训。")
    return helps


def _step(actor, application: JobApplication, *steps, **interview) -> JobApplication:
    for to in steps:
        application = services.application_move(actor=actor, application=application, to=to,
                                                **(interview if to == ApplicationStatus.INTERVIEW else {}))
    return application


def _applications(staff: Staff, recruiters: dict[str, User], postings: dict[str, JobPosting]) -> None:
    """Applications outside the fairs, at every step. The main worker has one sent, one read, one
    interview (after the union's referral) and one turned down; the plant's recruiter (the recruiter
    login) has applicants at every step."""
    today = timezone.localdate()
    plant, logistics, software = recruiters["plant"], recruiters["logistics"], recruiters["software"]
    s = ApplicationStatus

    def apply(number: int, key: str, note: str = "") -> JobApplication:
        return services.application_submit(actor=_worker(number), posting=postings[key], note=note)

    apply(1, "smt", "做过六年电子厂物料员，熟悉电子料，可以转操作岗。")
    _step(logistics, apply(1, "warehouse", "经南山区总工会推荐，有六年仓管经验，可随时到岗。"), s.VIEWED, s.INTERVIEW,
          interview_at=_at(today + datetime.timedelta(days=3), 10),
          interview_place=f"{postings['warehouse'].employer.address}仓库办公室（请带身份证和简历）")
    _step(logistics, apply(1, "courier_nantou"), s.VIEWED)
    services.application_move(actor=staff.county, application=apply(1, "cashier"), to=s.DECLINED,
                              note="门店收银岗位已招满，感谢投递，工会会继续为您推荐合适岗位。")
    _step(plant, apply(20, "smt", "在东莞做过两年插件和焊锡。"), s.VIEWED, s.INTERVIEW,
          interview_at=_at(today + datetime.timedelta(days=2), 14, 30),
          interview_place=f"{postings['smt'].employer.address}A栋一楼人事部")
    _step(plant, apply(20, "iqc"), s.VIEWED)
    hired = apply(14, "welder", "持焊工证八年，氩弧焊、二保焊都会。")
    electrician = apply(14, "plant_electrician")
    _step(plant, hired, s.VIEWED, s.OFFER, s.HIRED)
    services.application_withdraw(actor=_worker(14), application=electrician)  # took the welding job
    _step(logistics, apply(15, "forklift", "有叉车证，开了五年叉车。"), s.VIEWED, s.OFFER)
    services.application_move(actor=plant, application=apply(15, "packer"), to=s.DECLINED,
                              note="包装岗位已招满，欢迎关注本公司其他岗位。")
    _step(software, apply(16, "tester", "做过一学期测试实习。"), s.INTERVIEW,
          interview_at=_at(today + datetime.timedelta(days=2), 15),
          interview_place=f"{postings['tester'].employer.address}18楼会议室")
    # The rider applies on the union's referral and is hired: his help request closes as placed.
    _step(staff.city, apply(17, "rider_yuehai", "区总工会推荐，跑了三年外卖，熟悉科技园。"), s.VIEWED, s.OFFER, s.HIRED)
    apply(17, "courier_xili")
    apply(22, "cleaner_nanshan", "做过十年酒店客房保洁，家住南山街道。")


def _onsite_fair(staff: Staff, employers: dict[str, Employer], postings: dict[str, JobPosting]) -> JobFair:
    """Next week in 南头: the district union's on-site fair, booths with live postings, registrations."""
    day = timezone.localdate() + datetime.timedelta(days=9)
    fair = services.fair_create(actor=staff.county, org=staff.county.home_org, data={
        "title": "南山区总工会“工会送岗位”就业援助现场招聘会", "mode": JobFair.Mode.ONSITE, "division_code": "440305001",
        "venue": "南山区职工服务中心一楼大厅", "starts_at": _at(day, 9, 30), "ends_at": _at(day, 16), "capacity": 500,
        "description": "面向失业人员、农民工、高校毕业生和困难职工家庭，制造、物流、餐饮、物业等企业现场招聘，"
                       "工会提供政策咨询和职业指导。凭报名二维码入场。"})
    for number, (owner, keys) in enumerate(ONSITE_FAIR_BOOTHS.items(), start=1):
        services.fair_booth_add(actor=staff.county, fair=fair, employer_id=employers[owner].pk,
                                posting_ids=[postings[k].pk for k in keys], booth_no=f"A{number:02d}")
    for number in (1, 15, 20, 22):
        services.fair_register(actor=_worker(number), fair=fair)
    return fair


def _online_fair(staff: Staff, employers: dict[str, Employer], postings: dict[str, JobPosting],
                 recruiters: dict[str, User]) -> JobFair:
    """Last week, 福田区's online fair for graduates and flexible workers: registrations, one check-in,
    applications made at it and their outcomes (a hire, an interview, a decline, a withdrawal)."""
    held = timezone.localdate() - datetime.timedelta(days=ONLINE_FAIR_DAYS_AGO)
    starts = _at(held, 9)
    # Run it now, an hour after its opening, then move it back by the same amount (_fair_held_back).
    delta = timezone.now() - starts - datetime.timedelta(hours=1)
    fair = services.fair_create(actor=staff.futian, org=staff.futian.home_org, data={
        "title": "福田区高校毕业生和灵活就业人员线上招聘会", "mode": JobFair.Mode.ONLINE, "division_code": "440304",
        "starts_at": starts + delta, "ends_at": _at(held, 17) + delta,
        "description": "线上直播带岗：企业人事在线介绍岗位，求职者一键投递，工会就业指导员在线答疑。"})
    for number, (owner, keys) in enumerate(ONLINE_FAIR_BOOTHS.items(), start=1):
        services.fair_booth_add(actor=staff.futian, fair=fair, employer_id=employers[owner].pk,
                                posting_ids=[postings[k].pk for k in keys], booth_no=f"线上{number:02d}")
    registrations = {n: services.fair_register(actor=_worker(n), fair=fair) for n in (16, 18, 19, 21)}
    services.fair_checkin(actor=staff.futian, fair=fair, code=registrations[16].code)
    s = ApplicationStatus

    def apply(number: int, key: str) -> JobApplication:
        return services.application_submit(actor=_worker(number), posting=postings[key], fair=fair)

    software, property_ = recruiters["software"], recruiters["property"]
    _step(software, apply(19, "callcenter"), s.VIEWED, s.OFFER, s.HIRED)
    services.application_move(actor=software, application=apply(16, "java"), to=s.DECLINED,
                              note="该岗位需要三年以上Java开发经验，建议关注本公司测试岗位。")
    _step(property_, apply(18, "housekeeper"), s.INTERVIEW, interview_at=_at(held + datetime.timedelta(days=2), 10) + delta,
          interview_place="福田区莲花街道公司培训室")
    services.application_withdraw(actor=_worker(21), application=apply(21, "ride_hailing"))
    _fair_held_back(fair, delta)
    return fair
